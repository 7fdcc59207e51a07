"""Writes a compiled runbook's roles, and the collections they use, as files: for a project or a standalone role."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ansible_modules

from . import MIN_ANSIBLE_CORE, __version__, easy_modules, yamlout
from .calls import jinja_values, variable_noqa
from .emit import COLLECTION, Compiled, RoleOutput
from .modules import EASY_COLLECTION


def write_role(role: RoleOutput, folder: Path, meta: dict[str, Any]) -> dict[Path, Path]:
    """The role's files (meta/main.yml as given: translator/galaxy_role.py); returns the Vault-encrypted
    files copied into it -> the user's files."""
    (folder / "tasks").mkdir(parents=True)
    for name, text in sorted(role.texts.items()):  # as dumped at compile time, where its task lines were found
        (folder / "tasks" / f"{name}.yml").write_text(text)
    if role.handlers_text:
        (folder / "handlers").mkdir()
        (folder / "handlers" / "main.yml").write_text(role.handlers_text)
    origins = _write_defaults(role, folder / "defaults" / "main")
    (folder / "meta").mkdir()
    (folder / "meta" / "main.yml").write_text(yamlout.document(meta, role.runbook.source.name))
    for files in ("files", "templates"):
        if (role.runbook.directory / files).is_dir():
            shutil.copytree(role.runbook.directory / files, folder / files,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return origins


def copy_used_roles(compiled: Compiled, roles: Path) -> list[Path]:
    """The existing roles `role:` tasks run, copied beside the generated ones: the project runs anywhere and holds
    no path of this machine (a collection's role stays with its collection). Returns the copies."""
    copied = []
    for leaf in compiled.leaves:
        found = leaf.args.role if leaf.module == "role" else None
        if found is not None and found.source is not None and roles / found.name not in copied:
            if (roles / found.name).exists():  # `export --role` rewrites its directory in place
                shutil.rmtree(roles / found.name)
            shutil.copytree(found.source, roles / found.name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
            copied.append(roles / found.name)
    return copied


def copy_requirements(compiled: Compiled, project: Path) -> None:
    """The runbook's requirements.yml, where AWX looks for one (roles/ and collections/), for whoever installs
    the project elsewhere."""
    requirements = compiled.runbook.requirements
    if requirements is not None:
        for folder in (project / "roles", project / "collections"):
            folder.mkdir(exist_ok=True)
            shutil.copyfile(requirements, folder / "requirements.yml")


def write_lint_ignores(compiled: Compiled, project: Path, roles_dir: str = "roles/", collections_dir: str = "") -> None:
    """What ansible-lint flags that is neither rb2ansible's mistake nor the author's, each named exactly:
    - variable names in Vault-encrypted files are the runbook's own, like every runbook variable (marked
      line by line elsewhere); an encrypted file cannot carry that mark, so it is listed;
    - the vendored helper collections have no public repository to name in galaxy.yml;
    - a standalone role (roles_dir "") declares `collections: [rb2ansible.runbook]`, which Ansible accepts
      and ansible-lint's schema refuses (its pattern allows no digit in a collection name).
    Paths are from `project`, where ansible-lint is started: DIR/project, or the export's root."""
    lines = []
    for role in compiled.roles.values():
        for number, vars_file in enumerate(role.runbook.vars_files, start=1):
            if vars_file.values is None:
                path = f"{roles_dir}{role.name}/defaults/main/{_defaults_name(number, vars_file)}"
                lines.append(f"{path} var-naming[no-role-prefix]\n")
        if not roles_dir:
            lines.append(f"{role.name}/meta/main.yml schema[meta]  # collections: rb2ansible.runbook has a digit\n")
    collections = [COLLECTION] + ([EASY_COLLECTION] if _easy_modules(compiled) else [])
    for name in collections:
        lines.append(f"{collections_dir}collections/ansible_collections/{name.replace('.', '/')}/galaxy.yml "
                     "galaxy[no-repository]"
                     "  # not published: vendored here\n")
    (project / ".ansible-lint-ignore").write_text("".join(lines))


def _defaults_name(number: int, vars_file) -> str:
    return f"{number:02d}_{vars_file.path.stem}.yml"


def _write_defaults(role: RoleOutput, folder: Path) -> dict[Path, Path]:
    # Role defaults sit below inventory in Ansible's precedence, as runbook variables must.
    # Files in defaults/main/ load in name order, so later sources override earlier ones.
    folder.mkdir(parents=True)
    source = role.runbook.source.name
    if role.defaults:
        (folder / "00_runbook.yml").write_text(yamlout.document(role.defaults, source, variable_noqa(role.defaults)))
    origins = {}
    for number, vars_file in enumerate(role.runbook.vars_files, start=1):
        target = folder / _defaults_name(number, vars_file)
        if vars_file.values is None:
            shutil.copyfile(vars_file.path, target)  # Vault-encrypted: stays encrypted
            origins[target] = vars_file.path.resolve()
        else:
            values = jinja_values(vars_file.values)
            target.write_text(yamlout.document(values, vars_file.path.name, variable_noqa(values)))
    return origins


def collection_source() -> Path:
    return Path(next(iter(ansible_modules.__path__)))


def vendor_collection(collections: Path) -> None:
    namespace, name = COLLECTION.split(".")
    shutil.copytree(collection_source(), collections / "ansible_collections" / namespace / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py", "tests"))


def _easy_modules(compiled: Compiled) -> dict[str, Any]:
    return {leaf.target.easy.ansible_name: leaf.target.easy for leaf in compiled.leaves if leaf.target.kind == "easy"}


def write_easy_collection(compiled: Compiled, collections: Path) -> None:
    """The runbook's easy modules, each wrapped as a real Ansible module with what it imports bundled."""
    used = _easy_modules(compiled)
    if not used:
        return
    namespace, name = EASY_COLLECTION.split(".")
    root = collections / "ansible_collections" / namespace / name
    (root / "plugins" / "modules").mkdir(parents=True)
    (root / "meta").mkdir()
    (root / "meta" / "runtime.yml").write_text(f"---\nrequires_ansible: '>={MIN_ANSIBLE_CORE}.0'\n")
    galaxy = {"namespace": namespace, "name": name, "version": __version__, "readme": "README.md",
              "authors": ["rb2ansible"], "license": ["GPL-3.0-or-later"],
              "description": "Easy modules of one runbook, generated by rb2ansible", "tags": ["tools"],
              "dependencies": {}}
    (root / "galaxy.yml").write_text(yamlout.document(galaxy))
    (root / "README.md").write_text("# rb2ansible.easy\n\nGenerated by rb2ansible: the easy modules a runbook uses.\n")
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n## {__version__}\n\n- Generated by rb2ansible.\n")
    for ansible_name, module in sorted(used.items()):
        (root / "plugins" / "modules" / f"{ansible_name}.py").write_text(easy_modules.build_ansible_module(module))
