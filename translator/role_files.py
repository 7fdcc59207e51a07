"""Writes a compiled runbook's roles, and the collections they use, as files: for a project or a standalone role."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ansible_modules

from . import MIN_ANSIBLE_CORE, __version__, easy_modules, yamlout
from .calls import jinja_values, variable_noqa
from .emit import COLLECTION, Compiled, RoleOutput
from .model import VaultText
from .modules import EASY_COLLECTION


def write_role(role: RoleOutput, folder: Path) -> dict[Path, Path]:
    """The role's files; returns the Vault-encrypted files copied into it -> the user's files."""
    (folder / "tasks").mkdir(parents=True)
    for name, text in sorted(role.texts.items()):  # as dumped at compile time, where its task lines were found
        (folder / "tasks" / f"{name}.yml").write_text(text)
    origins = _write_defaults(role, folder / "defaults" / "main")
    (folder / "meta").mkdir()
    (folder / "meta" / "main.yml").write_text(yamlout.document(_role_meta(role), role.runbook.source.name))
    for files in ("files", "templates"):
        if (role.runbook.directory / files).is_dir():
            shutil.copytree(role.runbook.directory / files, folder / files,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return origins


def argument_specs(role: RoleOutput) -> dict[str, Any]:
    """The runbook's variables as the role's documented, typed inputs, with their defaults."""
    values: dict[str, Any] = dict(role.defaults)
    encrypted = []
    for vars_file in role.runbook.vars_files:
        if vars_file.values is None:
            encrypted.append(vars_file.path.name)
        else:
            values.update(jinja_values(vars_file.values))
    options = {}
    for name, value in values.items():
        option: dict[str, Any] = {"description": [f"Runbook variable '{name}'; inventory and -e values override it."],
                                  "type": _spec_type(value)}
        if isinstance(value, VaultText):
            option["no_log"] = True
        else:
            option["default"] = value
        options[name] = option
    description = [role.runbook.description or f"Runbook {role.runbook.name}, compiled by rb2ansible."]
    if encrypted:
        description.append(f"Also reads Vault-encrypted variables from {', '.join(encrypted)} (defaults/main/).")
    return {"argument_specs": {"main": {"short_description": description[0][:80], "description": description,
                                        "options": options}}}


def _spec_type(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (list, "list"), (dict, "dict")):
        if isinstance(value, kind):
            return name
    return "str"


def write_lint_ignores(compiled: Compiled, project: Path, roles_dir: str = "roles/") -> None:
    """Variable names in Vault-encrypted files are the runbook's own, like every runbook variable
    (marked line by line elsewhere); an encrypted file cannot carry that mark, so it is listed."""
    lines = []
    for role in compiled.roles.values():
        for number, vars_file in enumerate(role.runbook.vars_files, start=1):
            if vars_file.values is None:
                path = f"{roles_dir}{role.name}/defaults/main/{_defaults_name(number, vars_file)}"
                lines.append(f"{path} var-naming[no-role-prefix]\n")
    if lines:
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


def _role_meta(role: RoleOutput) -> dict[str, Any]:
    runbook = role.runbook
    return {
        "galaxy_info": {
            "role_name": role.name,
            "namespace": "rb2ansible",
            "author": "rb2ansible",
            "description": runbook.description or f"Runbook {runbook.name}, compiled by rb2ansible",
            "license": "MIT",
            "min_ansible_version": MIN_ANSIBLE_CORE,
            "platforms": [{"name": "Debian", "versions": ["all"]}],
            "galaxy_tags": ["rb2ansible"],
        },
        "dependencies": [],
    }


def collection_source() -> Path:
    return Path(next(iter(ansible_modules.__path__)))


def vendor_collection(collections: Path) -> None:
    namespace, name = COLLECTION.split(".")
    shutil.copytree(collection_source(), collections / "ansible_collections" / namespace / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py", "tests"))


def write_easy_collection(compiled: Compiled, collections: Path) -> None:
    """The runbook's easy modules, each wrapped as a real Ansible module with what it imports bundled."""
    used = {leaf.target.easy.ansible_name: leaf.target.easy for leaf in compiled.leaves if leaf.target.kind == "easy"}
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
              "repository": "https://github.com/rb2ansible/rb2ansible", "dependencies": {}}
    (root / "galaxy.yml").write_text(yamlout.document(galaxy))
    (root / "README.md").write_text("# rb2ansible.easy\n\nGenerated by rb2ansible: the easy modules a runbook uses.\n")
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n## {__version__}\n\n- Generated by rb2ansible.\n")
    for ansible_name, module in sorted(used.items()):
        (root / "plugins" / "modules" / f"{ansible_name}.py").write_text(easy_modules.build_ansible_module(module))
