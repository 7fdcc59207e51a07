"""A role's Galaxy face: meta/main.yml, meta/argument_specs.yml and README.md, from the runbook's own words.

Nothing is claimed that the runbook's author did not say: without `galaxy:` keys or `export --role`
options the author and license are SPDX's NOASSERTION ("not stated"; Galaxy and ansible-lint want
both keys), there is no namespace or platform list, the README says what to add, and the minimum
Ansible version is the one the helper collection requires.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from typing import Any

import yaml

from .calls import jinja_values
from .collections_used import CollectionUse
from .emit import RoleOutput
from .model import GalaxyMeta, VarDoc, VaultText
from .secret_vars import SECRET_NAME

# SPDX's word for "nobody stated it", where a value is required but unknown.
NOT_STATED = "NOASSERTION"
# How `export --role` says where publishing metadata comes from, for the README and the CLI's note.
SETTERS = {"author": "--author", "license": "--license", "namespace": "--namespace", "platforms": "--platform"}


def merged(runbook: GalaxyMeta, given: GalaxyMeta) -> GalaxyMeta:
    """The runbook's `galaxy:` keys, each overridden by an `export --role` option given."""
    return replace(runbook, **{f.name: getattr(given, f.name) for f in fields(given) if getattr(given, f.name)})


def missing(galaxy: GalaxyMeta) -> list[str]:
    """What Galaxy wants to know and nobody said: written nowhere, listed for the author to add."""
    return [name for name in SETTERS if not getattr(galaxy, name)]


def role_meta(role: RoleOutput, galaxy: GalaxyMeta, used: list[CollectionUse] | None = None) -> dict[str, Any]:
    """meta/main.yml; `used`: the collections a standalone role declares (a project lists them in its
    collections/requirements.yml instead)."""
    runbook = role.runbook
    info: dict[str, Any] = {"role_name": role.name}
    if galaxy.namespace:
        info["namespace"] = galaxy.namespace
    info["author"] = galaxy.author or NOT_STATED
    info["description"] = runbook.description or f"Runbook {runbook.name}, compiled by rb2ansible"
    info["license"] = galaxy.license or NOT_STATED
    info["min_ansible_version"] = galaxy.min_ansible_version or minimum_ansible()
    if galaxy.platforms:
        info["platforms"] = [{"name": name, "versions": list(versions)} for name, versions in galaxy.platforms]
    info["galaxy_tags"] = ["rb2ansible"]
    meta: dict[str, Any] = {"galaxy_info": info}
    if used:  # the collections its tasks' modules come from: Ansible searches them, Galaxy users install them
        meta["collections"] = [collection.name for collection in used]
    return {**meta, "dependencies": []}


def minimum_ansible() -> str:
    """The oldest ansible-core the helper collection says it runs on (its meta/runtime.yml)."""
    from .role_files import collection_source

    requires = yaml.safe_load((collection_source() / "meta" / "runtime.yml").read_text())["requires_ansible"]
    found = re.search(r">=\s*(\d+\.\d+)", str(requires))
    return found.group(1) if found else str(requires)


def role_variables(role: RoleOutput) -> tuple[dict[str, Any], list[str]]:
    """Every variable the role reads with a default (runbook vars, var.yml, plain vars_files), and the
    names of its Vault-encrypted files, whose variables are not known until Ansible decrypts them."""
    values: dict[str, Any] = dict(role.defaults)
    encrypted = []
    for vars_file in role.runbook.vars_files:
        if vars_file.values is None:
            encrypted.append(vars_file.path.name)
        else:
            values.update(jinja_values(vars_file.values))
    return values, encrypted


def argument_specs(role: RoleOutput) -> dict[str, Any]:
    """The runbook's variables as the role's documented, typed inputs: `vars_doc:` says what each means and
    which are required (those have no default); the others are the runbook's defaults, described as such."""
    values, encrypted = role_variables(role)
    docs = {doc.name: doc for doc in role.runbook.vars_doc}
    options = {}
    for name in [*values, *(name for name in docs if name not in values)]:
        options[name] = _option(name, values.get(name), name in values, docs.get(name))
    description = [role.runbook.description or f"Runbook {role.runbook.name}, compiled by rb2ansible."]
    if encrypted:
        description.append(f"Also reads Vault-encrypted variables from {', '.join(encrypted)} (defaults/main/).")
    return {"argument_specs": {"main": {"short_description": description[0][:80], "description": description,
                                        "options": options}}}


def _option(name: str, value: Any, has_default: bool, doc: VarDoc | None) -> dict[str, Any]:
    text = doc.description if doc else f"Runbook variable '{name}'; inventory and -e values override its default."
    option: dict[str, Any] = {"description": [text], "type": (doc and doc.type) or _spec_type(value)}
    if doc and doc.required:
        option["required"] = True
    if isinstance(value, VaultText) or SECRET_NAME.search(name):
        option["no_log"] = True  # Ansible then hides the value when it reports a wrong one
    if has_default and not isinstance(value, VaultText):
        option["default"] = value
    return option


def _spec_type(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (list, "list"), (dict, "dict")):
        if isinstance(value, kind):
            return name
    return "str"


def role_readme(role: RoleOutput, galaxy: GalaxyMeta, used: list[CollectionUse]) -> str:
    runbook = role.runbook
    specs = argument_specs(role)["argument_specs"]["main"]
    lines = [f"# {role.name}", "", runbook.description or f"Runbook `{runbook.name}`, compiled by rb2ansible.", "",
             f"Generated by rb2ansible from the runbook `{runbook.name}`: edit the runbook, not this role.", "",
             "## Requirements", "",
             "The collections its tasks use (`meta/main.yml` lists them): "
             + ", ".join(f"`{c.name}`" + (f" {c.version}" if c.version and not c.helper else "") for c in used) + ".",
             "rb2ansible's own are not on Galaxy: `export --role` writes them beside the role, and",
             "`ansible-galaxy collection install -r collections/requirements.yml`, run where it wrote them,",
             "installs them with the rest.", "",
             "## Role variables", ""]
    if specs["options"]:
        lines += ["| name | required | default | description |", "|---|---|---|---|"]
        for name, option in specs["options"].items():
            default = f"`{json.dumps(option['default'], default=str)}`" if "default" in option else ""
            required = "yes" if option.get("required") else "no"
            lines.append(f"| `{name}` | {required} | {_cell(default)} | {_cell(option['description'][0])} |")
    else:
        lines.append("None.")
    lines += [*(["", *specs["description"][1:]] if len(specs["description"]) > 1 else []), "",
              "## Example playbook", "", "    - name: Use " + role.name, "      hosts: all", "      roles:",
              f"        - role: {role.name}"]
    required = [name for name, option in specs["options"].items() if option.get("required")]
    if required:
        lines += ["          vars:", *(f"            {name}: ..." for name in required)]
    lines += ["", "## License and author", ""]
    lines.append(f"License: {galaxy.license or 'not stated'}. Author: {galaxy.author or 'not stated'}.")
    unset = missing(galaxy)
    if unset:
        options = " ".join(f"`{SETTERS[name]}`" for name in unset)
        lines += ["", f"Before publishing on Galaxy, state its {', '.join(unset)}: in the runbook's `galaxy:` key",
                  f"(docs/runbooks.md) or with the options {options} of `rb2ansible export --role`."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
