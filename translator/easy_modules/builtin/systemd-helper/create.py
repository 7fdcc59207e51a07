"""Create (or remove) a systemd service unit, and reload systemd when it changed.

Writes <unit_dir>/<service_name>.service from the arguments, atomically: the new content goes to a
temporary file in the same directory, which then replaces the unit, so systemd never reads half a
file. When the unit was written or removed, runs "systemctl daemon-reload" (unless reload is false,
systemctl is missing or systemd is not running). Run twice with the same arguments, the second run
changes nothing. In check mode it reports what it would change and writes nothing. Starting or
enabling the service is left to a service task (ansible.builtin.systemd_service).

Args:
    service_name (str, required): the unit's name, with or without ".service", e.g. "academic"
    description (str): the [Unit] Description= line; defaults to the service name
    user (str): the account the service runs as ([Service] User=); root when not given
    exec (str): the command line ([Service] ExecStart=); required when state is present
    service_extra (list of str): more [Service] lines, e.g. ["MemoryMax=512M", "Restart=always"]
    after (str): the [Unit] After= line; default "network.target"
    wanted_by (str): the [Install] WantedBy= target; default "multi-user.target"
    state (str): "present" (default) writes the unit, "absent" removes it
    unit_dir (path): the directory of unit files; default "/etc/systemd/system"
    reload (bool): run "systemctl daemon-reload" after a change; default true

Returns:
    path (str): the unit file
    content (str): the unit's content when state is present
    reloaded (bool): whether "systemctl daemon-reload" ran
"""

import os
import shutil
import subprocess
import tempfile

_KNOWN = {"service_name", "description", "user", "exec", "service_extra", "after", "wanted_by", "state",
          "unit_dir", "reload"}


def run(args):
    plan = _plan(args)
    before = _read(plan["path"])
    if before == plan["content"]:
        return _result(plan, before, changed=False, reloaded=False)
    if plan["content"] is None:
        os.remove(plan["path"])
    else:
        _write_atomically(plan["path"], plan["content"])
    reloaded, note = _daemon_reload(plan["reload"])
    result = _result(plan, before, changed=True, reloaded=reloaded)
    if note:
        result["msg"] += "; " + note
    return result


def check(args):
    plan = _plan(args)
    before = _read(plan["path"])
    return _result(plan, before, changed=before != plan["content"], reloaded=False, checking=True)


def _plan(args):
    unknown = sorted(set(args) - _KNOWN)
    if unknown:
        raise ValueError("unknown argument(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(_KNOWN))))
    name = _line(args, "service_name", required=True)
    if "/" in name:
        raise ValueError("service_name must be a unit name, not a path: %r" % name)
    if not name.endswith(".service"):
        name += ".service"
    state = args.get("state") or "present"
    if state not in ("present", "absent"):
        raise ValueError("state must be present or absent, not %r" % state)
    path = os.path.join(str(args.get("unit_dir") or "/etc/systemd/system"), name)
    content = _unit(args, name) if state == "present" else None
    return {"path": path, "content": content, "reload": args.get("reload", True) not in (False, "false", "no")}


def _unit(args, name):
    extra = args.get("service_extra") or []
    if isinstance(extra, str):
        extra = [extra]
    service = ["User=%s" % _line(args, "user")] if args.get("user") else []
    service.append("ExecStart=%s" % _line(args, "exec", required=True))
    for line in extra:
        if "=" not in str(line) or "\n" in str(line):
            raise ValueError("service_extra lines look like 'Key=value', one per item: %r" % (line,))
        service.append(str(line))
    return "\n".join([
        "# Managed by rb2ansible (systemd-helper/create): changes made here are overwritten.",
        "[Unit]",
        "Description=%s" % (_line(args, "description") or name[: -len(".service")]),
        "After=%s" % (_line(args, "after") or "network.target"),
        "",
        "[Service]",
        *service,
        "",
        "[Install]",
        "WantedBy=%s" % (_line(args, "wanted_by") or "multi-user.target"),
        "",
    ])


def _line(args, key, required=False):
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise ValueError("%s is required" % key)
        return ""
    value = str(value)
    # A newline would smuggle another directive into the unit.
    if "\n" in value:
        raise ValueError("%s must be a single line" % key)
    return value


def _read(path):
    try:
        with open(path) as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def _write_atomically(path, content):
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _daemon_reload(wanted):
    if not wanted:
        return False, ""
    if shutil.which("systemctl") is None:
        return False, "systemctl not found, daemon-reload skipped"
    if not os.path.isdir("/run/systemd/system"):
        return False, "systemd is not running here, daemon-reload skipped"
    done = subprocess.run(["systemctl", "daemon-reload"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if done.returncode != 0:
        raise RuntimeError("systemctl daemon-reload failed: %s" % done.stderr.strip())
    return True, ""


def _result(plan, before, changed, reloaded, checking=False):
    after = plan["content"]
    verb = {(True, True): "updated", (False, True): "created", (True, False): "removed"}
    if not changed:
        msg = "%s is up to date" % plan["path"]
    else:
        msg = "%s %s%s" % (plan["path"], "would be " if checking else "", verb[(before is not None, after is not None)])
    result = {"changed": changed, "path": plan["path"], "reloaded": reloaded, "msg": msg}
    if changed:
        # Shown by Ansible with --diff, as for its own file modules.
        result["diff"] = {"before": before or "", "after": after or "", "before_header": plan["path"],
                          "after_header": plan["path"]}
    if after is not None:
        result["content"] = after
    return result
