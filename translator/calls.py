"""How one runbook module call becomes Ansible: the FQCN, its arguments, the task keywords, lint marks."""

from __future__ import annotations

from typing import Any

from . import variables
from .model import ModuleCall, TaskOptions

COMMAND_MODULES = ("ansible.builtin.command", "ansible.builtin.shell")

# ansible-lint marks, each the exact sub-rule, where the flagged text is rb2ansible's own mapping of a
# runbook choice; a finding that can point at the author's mistake (a reserved or malformed variable name,
# a pipe that hides a failure, a command that has a module) is never marked: ansible-lint reports it.
# A runbook's `shell` is Ansible's shell by definition, whatever its command needs.
SHELL_RULES = "command-instead-of-shell"
# Runbook variables keep their names (inventories and -e override them by name): no role prefix. Ansible
# checks the prefix on role defaults, register, set_fact and a role call's vars, not on a task's own vars.
VARIABLE_RULES = "var-naming[no-role-prefix]"


def user_choice_noqa(leaf: ModuleCall, fields: dict[str, Any]) -> dict[tuple[str, ...], str]:
    noqa: dict[tuple[str, ...], str] = {}
    if leaf.target.fqcn == "ansible.builtin.shell":
        noqa[("name",)] = SHELL_RULES
    if leaf.options.register and fields.get("register") == leaf.options.register:
        noqa[("register",)] = VARIABLE_RULES  # the runbook's own variable name
    return noqa


def variable_noqa(values: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """A defaults file: every name is a runbook variable."""
    return {(name,): VARIABLE_RULES for name in values}


def module_call(leaf: ModuleCall, files_prefix: str = "") -> tuple[str, Any, dict[str, Any]]:
    """The FQCN, arguments and extra task keywords a leaf compiles to."""
    info = leaf.target
    args = leaf.args
    extra: dict[str, Any] = {}
    if leaf.module == "echo":
        return info.fqcn, {"msg": jinja_values(args)}, extra
    if leaf.module == "shell":
        args = dict(args)
        if "env" in args:
            extra["environment"] = jinja_values(args.pop("env"))
        if not ({"creates", "removes"} & args.keys()):
            # Ansible's own default for commands, written out: a command always counts as a change.
            extra["changed_when"] = True
        return info.fqcn, jinja_values(args), extra
    if leaf.module in ("file", "template"):
        args = dict(args)
        if "variables" in args:
            extra["vars"] = jinja_values(args.pop("variables"))
        folder = "files" if leaf.module == "file" else "templates"
        source = args.pop("source")
        renamed = {"src": f"{files_prefix}{folder}/{source}" if files_prefix else source,
                   "dest": args.pop("destination")}
        renamed["mode"] = file_mode(args.pop("mode", "preserve"))
        for key in ("owner", "group"):
            if key in args:
                renamed[key] = str(args.pop(key))
        renamed.update(args)
        return info.fqcn, jinja_values(renamed), extra
    if info.fqcn in COMMAND_MODULES:
        args = {"cmd": args} if isinstance(args, str) else dict(args or {})
        if not ({"creates", "removes"} & args.keys()):
            extra["changed_when"] = True
    return info.fqcn, jinja_values(args if args is not None else {}), extra


def file_mode(mode: Any) -> str:
    # YAML reads an unquoted 0400 as the integer 256: give Ansible the octal string the user meant.
    return f"0{mode:o}" if isinstance(mode, int) else str(mode)


def keywords(options: TaskOptions) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if options.sudo is not None or options.sudo_user:
        fields["become"] = bool(options.sudo or options.sudo_user)
    if options.sudo_user:
        fields["become_user"] = options.sudo_user
    if options.vars:
        fields["vars"] = jinja_values(options.vars)
    if options.tags:
        fields["tags"] = list(options.tags)
    if options.ignore_errors:
        fields["ignore_errors"] = True
    if options.no_log:
        fields["no_log"] = True
    return fields


def jinja_values(value: Any) -> Any:
    if isinstance(value, str):
        return variables.to_jinja(value)
    if isinstance(value, dict):
        return {k: jinja_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jinja_values(v) for v in value]
    return value  # numbers, booleans, None, VaultText
