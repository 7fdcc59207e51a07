"""Writes a compiled runbook as an ansible-runner private data directory: what `export` keeps and `run` executes."""

from __future__ import annotations

import configparser
import io
import os
import shlex
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, galaxy_role, project_root, role_files, yamlout
from .ansible_options import AT_RUN_TIME, PASSED_OPTIONS, REACHING, RECORDED, command_line
from .collections_used import collections_used
from .emit import Compiled
from .errors import UsageError
from .export_readme import readme
from .inventory_copy import HostList, copy_inventories
from .model import GalaxyMeta
from .secret_vars import SecretSplit, split_secrets

DEFAULT_INVENTORY = {
    "all": {
        "hosts": {
            "localhost": {
                "ansible_connection": "local",
                # The controller's own Python: interpreter discovery can pick a broken shim.
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            }
        }
    }
}
DEFAULT_FORKS = 50


@dataclass(frozen=True)
class RunSettings:
    """What the command line adds to a runbook: inventories, variables, limits, modes, credentials."""

    inventories: tuple[Path | HostList, ...] = ()
    extravars: dict[str, Any] = field(default_factory=dict)
    extravar_files: tuple[Path, ...] = ()
    # ansible-playbook's own options, each named after its RunSettings field in ansible_options.PASSED_OPTIONS.
    limit: str | None = None
    tags: str | None = None  # several -t, joined with commas as Ansible joins them
    skip_tags: str | None = None
    start_at_task: str | None = None
    check: bool = False
    diff: bool = False
    remote_user: str | None = None
    connection: str | None = None
    timeout: int | None = None
    become: bool = False
    become_method: str | None = None
    become_user: str | None = None
    # Paths of this machine: given to ansible-playbook at run time, never written into the directory.
    private_key: Path | None = None
    connection_password_file: Path | None = None
    become_password_file: Path | None = None
    forks: int | None = None
    verbosity: int = 0
    # Ansible's host key checking as the user's environment and ansible.cfg set it. Stated in the directory,
    # because ansible-runner turns checking off when nothing says otherwise.
    host_key_checking: bool = True
    # -e values whose names look secret are written into the directory only when the user says so.
    keep_secret_vars: bool = False
    vault_password_files: tuple[Path, ...] = ()
    vault_ids: tuple[str, ...] = ()
    # Answers to Ansible's own prompts (SSH, become, vault), typed by the user at run time.
    # Given to ansible-runner in memory only: never written into the project, env/ or results.
    prompt_answers: dict[str, str] = field(default_factory=dict, repr=False)
    # run --fast: the environment that gives ansible-playbook Mitogen's strategy (translator/accelerator.py).
    # Given at run time only, so the directory stays a plain Ansible project.
    strategy_env: dict[str, str] = field(default_factory=dict)

    def recorded_options(self) -> list[str]:
        """The ansible-playbook options that shape what the run does: written to env/cmdline."""
        args: list[str] = []
        for option in PASSED_OPTIONS:
            if option.goes == RECORDED:
                args += command_line(option, getattr(self, option.field))
        if self.forks is not None:
            args += ["--forks", str(self.forks)]
        if self.verbosity:
            args.append("-" + "v" * self.verbosity)
        return args

    def connection_options(self) -> list[str]:
        """The recorded options that say how the hosts are reached and as whom (-u, -c, -T, -b...)."""
        return [arg for option in PASSED_OPTIONS if option.field in REACHING
                for arg in command_line(option, getattr(self, option.field))]

    def credential_options(self) -> list[str]:
        """Where the passwords and keys come from: machine paths and prompts, given at run time, never written."""
        args: list[str] = []
        for path in self.vault_password_files:
            args += ["--vault-password-file", str(path)]
        for vault_id in self.vault_ids:
            args += ["--vault-id", vault_id]
        for option in PASSED_OPTIONS:
            if option.goes == AT_RUN_TIME:
                args += command_line(option, getattr(self, option.field))
        return args + [PROMPT_OPTIONS[kind] for kind in sorted(self.prompt_answers)]

    def environment(self) -> dict[str, str]:
        """env/envvars: the Ansible settings ansible-runner would otherwise decide for the run."""
        return {"ANSIBLE_HOST_KEY_CHECKING": str(self.host_key_checking)}


# Ansible's option for each prompt, and the regular expression of the prompt ansible-runner answers.
PROMPT_OPTIONS = {"ssh": "--ask-pass", "become": "--ask-become-pass", "vault": "--ask-vault-pass"}
PROMPT_PATTERNS = {"ssh": r"SSH password:\s*?$", "become": r"BECOME password.*:\s*?$",
                   "vault": r"Vault password.*:\s*?$"}


@dataclass(frozen=True)
class PrivateDir:
    """A written private data directory, and what a run adds to it without writing it there."""

    path: Path
    origins: dict[Path, Path]  # a file in it -> the user's file it copies, so errors name the user's file
    secrets: SecretSplit  # the -e values and files held back from it

    def recorded_cmdline(self) -> list[str]:
        """env/cmdline, as ansible-runner reads it."""
        cmdline = self.path / "env" / "cmdline"
        return shlex.split(cmdline.read_text()) if cmdline.exists() else []


def ansible_config(roles_path: str = "./roles", project: bool = True, collections: str = "./collections",
                   inventory: str = "../inventory", header: str = "", host_key_checking: bool = True) -> str:
    """ansible.cfg, built as data once: the project's (the settings `rb2ansible run` uses; at the export's
    root the same with paths from there) or, for `export --role`, the part that lets Ansible and ansible-lint
    find the roles and the helper collection. Relative paths are read from the file's own directory.
    A key without value is written as it is: that is how a comment line goes above the setting it explains."""
    sections: dict[str, dict[str, str | None]] = {"defaults": {
        "roles_path": roles_path,
        "collections_path": f"{collections}:~/.ansible/collections:/usr/share/ansible/collections"}}
    if project:
        sections["defaults"].update({
            "inventory": inventory,
            "forks": str(DEFAULT_FORKS),
            "# Facts cost seconds per host; a runbook asks for them with `facts: true`.": None,
            "gathering": "explicit",
            "retry_files_enabled": "false",
            "interpreter_python": "auto_silent",
            "# As your environment and ansible.cfg set it (Ansible's default: on), stated because": None,
            "# ansible-runner turns it off otherwise; inventory's ansible_host_key_checking still wins.": None,
            "host_key_checking": str(host_key_checking),
            "# child_events reports each child of a parallel block as it starts (and its ignored failures),": None,
            "# live; warm_templating readies templating once, before Ansible forks a worker per task and host.": None,
            "callbacks_enabled": "rb2ansible.runbook.child_events, rb2ansible.runbook.warm_templating"})
        sections["inventory"] = {
            "# An inventory Ansible cannot parse is an error, not a silent fallback to localhost.": None,
            "unparsed_is_failed": "true"}
        sections["ssh_connection"] = {
            "# One SSH session per host, reused, and modules piped instead of copied: the big speed-ups.": None,
            "pipelining": "true",
            "ssh_args": "-C -o ControlMaster=auto -o ControlPersist=60s"}
    config = configparser.ConfigParser(allow_no_value=True, interpolation=None)
    config.optionxform = str  # type: ignore[assignment,method-assign]  # comment lines keep their case
    config.read_dict(sections)
    text = io.StringIO()
    config.write(text)
    header = header or (f"# Generated by rb2ansible {__version__}: the settings `rb2ansible run` uses." if project else
                        "# Generated by rb2ansible: lets Ansible and ansible-lint find the roles and the helper "
                        "collection.")
    return header + "\n" + text.getvalue().rstrip("\n") + "\n"


def ansible_cfg(forks: int = DEFAULT_FORKS) -> str:
    """The project's ansible.cfg (kept for bench/, which times hand-written Ansible with the same settings)."""
    return ansible_config()


MARKER = ".rb2ansible-export"


def write_project(compiled: Compiled, directory: Path, settings: RunSettings) -> PrivateDir:
    """Write the whole private data directory beside `directory`, then swap it in by renames: a write that
    fails half-way (a full disk) leaves the previous export as it was and no partial one. Every file is
    the user's alone (0600, directories and executables 0700): it may hold -e values and inventory vars."""
    directory = Path(os.path.abspath(directory))
    _check_target(directory)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.rb2ansible-", dir=directory.parent))
    except OSError as exc:
        raise UsageError(f"cannot write into {directory.parent}: {exc.strerror}") from None
    try:
        origins, secrets = _write_tree(compiled, staging, settings)
        _owner_only(staging)
        _swap_in(staging, directory)
    except OSError as exc:
        raise UsageError(f"cannot write the export {directory}: {exc.strerror}"
                         f"{'' if exc.filename is None else ' (' + str(exc.filename) + ')'}; "
                         f"{'the previous export is unchanged' if directory.exists() else 'nothing was written'}"
                         ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PrivateDir(directory, {directory / path.relative_to(staging): origin for path, origin in origins.items()},
                      secrets)


def _write_tree(compiled: Compiled, root: Path, settings: RunSettings) -> tuple[dict[Path, Path], SecretSplit]:
    (root / MARKER).write_text("This directory is rewritten by `rb2ansible export`.\n")
    project = root / "project"
    project.mkdir()
    (project / "site.yml").write_text(yamlout.document([compiled.play], compiled.runbook.source.name))
    (project / "ansible.cfg").write_text(ansible_config(host_key_checking=settings.host_key_checking))
    origins: dict[Path, Path] = {}
    used = collections_used(compiled)
    for role in compiled.roles.values():
        meta = galaxy_role.role_meta(role, role.runbook.galaxy)
        origins.update(role_files.write_role(role, project / "roles" / role.name, meta))
    role_files.copy_used_roles(compiled, project / "roles")
    role_files.copy_requirements(compiled, project)
    role_files.write_lint_ignores(compiled, project)
    role_files.write_lint_ignores(compiled, root, roles_dir="project/roles/", collections_dir="project/")
    role_files.vendor_collection(project / "collections")
    role_files.write_easy_collection(compiled, project / "collections")
    project_root.write_root(compiled, root, ansible_config(**project_root.ROOT_CONFIG,
                                                           host_key_checking=settings.host_key_checking), used)
    (root / "inventory").mkdir()
    if settings.inventories:
        origins.update(copy_inventories(settings.inventories, root / "inventory"))
    else:
        # Without -i: the runbook's own AutomateJS inventory.yml, else localhost.
        inventory = compiled.runbook.inventory or DEFAULT_INVENTORY
        (root / "inventory" / "hosts.yml").write_text(yamlout.document(inventory))
    secrets = split_secrets(settings.extravars, settings.extravar_files, settings.keep_secret_vars)
    env_origins, cmdline = _write_env(root / "env", settings, secrets)
    origins.update(env_origins)
    (root / "README.md").write_text(readme(compiled, settings, secrets, cmdline))
    return origins, secrets


def _write_env(folder: Path, settings: RunSettings, secrets: SecretSplit) -> tuple[dict[Path, Path], list[str]]:
    """env/ as ansible-runner reads it: extravars (-e K=V), cmdline with every option that shapes the run,
    and envvars with the Ansible settings ansible-runner would otherwise change (host key checking);
    -e @FILE files are copied beside them and named in cmdline relative to project/, the directory
    Ansible runs in. No env/settings: `run` silences ansible-runner itself, and whoever runs
    `ansible-runner run DIR` sees Ansible's output."""
    folder.mkdir()
    (folder / "extravars").write_text(yamlout.document(secrets.values))
    (folder / "envvars").write_text(yamlout.document(settings.environment()))
    origins, files = {}, []
    for number, source in enumerate(secrets.files, start=1):
        target = folder / "extravar_files" / f"{number:02d}_{source.name}"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
        origins[target] = source
        files += ["-e", f"@../env/extravar_files/{target.name}"]
    cmdline = files + settings.recorded_options()
    if cmdline:
        (folder / "cmdline").write_text(shlex.join(cmdline) + "\n")
    return origins, cmdline


def _check_target(directory: Path) -> None:
    """Write only into a new or empty directory, or one an earlier export wrote: never over a user's files."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; give a directory to export into")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise UsageError(f"{directory} is not empty and was not written by rb2ansible; choose a new directory")
    if not directory.parent.is_dir():
        raise UsageError(f"cannot export into {directory}: the directory {directory.parent} does not exist")


def _swap_in(staging: Path, directory: Path) -> None:
    if not directory.exists():
        staging.rename(directory)
        return
    previous = directory.with_name(f".{directory.name}.rb2ansible-previous-{uuid.uuid4().hex[:8]}")
    directory.rename(previous)
    try:
        staging.rename(directory)
    except OSError:
        previous.rename(directory)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _owner_only(root: Path) -> None:
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, 0o700 if os.stat(path).st_mode & 0o100 else 0o600)


def write_roles(compiled: Compiled, directory: Path, given: GalaxyMeta | None = None) -> Path:
    """`export --role`: the runbook as a standalone role, ready for Galaxy, with what it needs beside it.

    DIR/<role>/ is the role (tasks, defaults, templates, files, meta with argument_specs, README.md);
    roles of included runbooks sit beside it, the helper collections under DIR/collections with
    DIR/collections/requirements.yml to install them and every other collection the tasks use, and
    DIR/ansible.cfg points Ansible and ansible-lint at both. `given`: the `export --role` options,
    over the runbook's `galaxy:` keys.
    """
    _claim(directory)
    used = collections_used(compiled)
    for role in compiled.roles.values():
        target = directory / role.name
        if target.exists():
            shutil.rmtree(target)
        galaxy = galaxy_role.merged(role.runbook.galaxy, given or GalaxyMeta())
        role_files.write_role(role, target, galaxy_role.role_meta(role, galaxy, used))
        source = role.runbook.source.name
        (target / "meta" / "argument_specs.yml").write_text(
            yamlout.document(galaxy_role.argument_specs(role), source))
        (target / "README.md").write_text(galaxy_role.role_readme(role, galaxy, used))
    role_files.write_lint_ignores(compiled, directory, roles_dir="")
    collections = directory / "collections"
    if collections.exists():
        shutil.rmtree(collections)
    role_files.vendor_collection(collections)
    role_files.write_easy_collection(compiled, collections)
    (collections / "requirements.yml").write_text(
        project_root.collection_requirements(used, "collections/ansible_collections"))
    (directory / "ansible.cfg").write_text(ansible_config(roles_path=".", project=False))
    copied_roles = role_files.copy_used_roles(compiled, directory)
    for written in [*(directory / role for role in compiled.roles), *copied_roles, collections]:
        _owner_only(written)
    for name in ("ansible.cfg", ".ansible-lint-ignore", MARKER):
        if (directory / name).exists():
            (directory / name).chmod(0o600)
    return directory / compiled.role


def _claim(directory: Path) -> None:
    """`export --role` writes its roles into the directory in place (it may hold a playbook beside them)."""
    _check_target(Path(os.path.abspath(directory)))
    directory.mkdir(mode=0o700, exist_ok=True)
    (directory / MARKER).write_text("This directory is rewritten by `rb2ansible export`.\n")
