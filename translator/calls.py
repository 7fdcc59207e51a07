"""How one runbook module call becomes Ansible: the FQCN, its arguments, the task keywords, lint marks."""

from __future__ import annotations

from typing import Any

from . import variables
from .model import ModuleCall, TaskOptions
from .options import become_plugin, keyword

COMMAND_MODULES = ("ansible.builtin.command", "ansible.builtin.shell")

# ansible-lint marks, each the exact sub-rule, where the flagged text is rb2ansible's own mapping of a
# runbook choice; a finding that can point at the author's mistake (a reserved or malformed variable name,
# a pipe that hides a failure, a command that has a module) is never marked: ansible-lint reports it. (Its
# command rules read ansible.builtin.shell/command only: a runbook's `shell`, rb2ansible.runbook.shell, escapes them.)
# A JavaScript template without `mode` gets the mode new files get, as with AutomateJS (0666 less the umask);
# `mode: preserve` would copy the mode of the rendered text's temporary file, 0600.
UNSET_MODE_RULES = "risky-file-permissions"
# Runbook variables keep their names (inventories and -e override them by name): no role prefix. Ansible
# checks the prefix on role defaults, register, set_fact and a role call's vars, not on a task's own vars.
VARIABLE_RULES = "var-naming[no-role-prefix]"


def user_choice_noqa(leaf: ModuleCall, fields: dict[str, Any]) -> dict[tuple[str, ...], str]:
    noqa: dict[tuple[str, ...], str] = {}
    if getattr(leaf.args, "engine", None) == "node" and leaf.args.mode is None:
        noqa[("name",)] = UNSET_MODE_RULES
    if leaf.module == "role":  # the role's own variables: their names are its interface, not ours
        noqa.update({("vars", name): VARIABLE_RULES for name in fields.get("vars", {})})
    if leaf.options.register and fields.get("register") == leaf.options.register:
        noqa[("register",)] = VARIABLE_RULES  # the runbook's own variable name
    return noqa


def variable_noqa(values: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """A defaults file: every name is a runbook variable."""
    return {(name,): VARIABLE_RULES for name in values}


def module_call(leaf: ModuleCall, files_prefix: str = "") -> tuple[str, Any, dict[str, Any]]:
    """The FQCN, arguments and extra task keywords a leaf compiles to."""
    info = leaf.target
    if info.core is not None:
        call = info.core.to_ansible(leaf.args, files_prefix)
        return call.fqcn, call.args, call.keywords
    args = leaf.args.values
    extra: dict[str, Any] = {}
    if info.fqcn in COMMAND_MODULES:
        args = {"cmd": args} if isinstance(args, str) else dict(args or {})
        if not ({"creates", "removes"} & args.keys()):
            extra["changed_when"] = True
    return info.fqcn, jinja_values(args if args is not None else {}), extra


def with_keywords(extra: dict[str, Any], options: TaskOptions) -> dict[str, Any]:
    """A call's own task keywords together with those of its options. A template's `variables`
    are task vars too: they join the vars the task inherits, and win over them, being its own."""
    fields = {**extra, **keywords(options)}
    if "vars" in extra and "vars" in fields:
        fields["vars"] = {**fields["vars"], **extra["vars"]}
    # A shell's own `env` is the command's environment, over the task's `environment`.
    if isinstance(extra.get("environment"), dict) and isinstance(fields["environment"], dict):
        fields["environment"] = {**fields["environment"], **extra["environment"]}
    return fields


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
    fields.update(emitted_keywords(options.keywords))
    return fields


def emitted_keywords(values: dict[str, Any]) -> dict[str, Any]:
    """The Ansible task fields the keywords become: `${}` becomes Jinja, a condition Ansible's bare expression."""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        kind = keyword(name).kind
        if kind == "condition":
            items = [variables.to_condition(v) if isinstance(v, str) else v
                     for v in (value if isinstance(value, list) else [value])]
            fields[name] = items if isinstance(value, list) else items[0]
        elif kind == "names":
            fields[name] = list(value)
        elif kind == "become_method" and "${" not in value:
            fields[name] = become_plugin(value)  # ansible-lint's schema asks for the full name
        else:
            fields[name] = jinja_values(value)
    return fields


def jinja_values(value: Any) -> Any:
    if isinstance(value, str):
        return variables.to_jinja(value)
    if isinstance(value, dict):
        return {k: jinja_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jinja_values(v) for v in value]
    return value  # numbers, booleans, None, VaultText
