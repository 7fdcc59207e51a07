"""ansible-playbook's own options as `run` and `export` take them: where each one goes, its help and group
read from ansible-core's parser, and the Ansible settings rb2ansible must state because ansible-runner would
change them (host key checking)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import click

from . import ansible_memo
from .errors import UsageError

# Where a value goes. RECORDED: env/cmdline, so an export runs as the run did. AT_RUN_TIME: given to
# ansible-playbook by `run` only, never written: a path of this machine (a key, a password file).
RECORDED, AT_RUN_TIME = "recorded", "at run time"


@dataclass(frozen=True)
class PassedOption:
    """One ansible-playbook option rb2ansible hands to Ansible unchanged, under Ansible's own names."""

    dest: str  # ansible-playbook's name for it (its argparse dest), which finds its help and group
    names: tuple[str, ...]  # every spelling ansible-playbook accepts, short form first
    field: str  # the RunSettings field that holds it
    kind: str = "value"  # "value", "flag" or "values" (repeatable, as ansible-playbook's -t)
    goes: str = RECORDED
    metavar: str | None = None


# The options that shape what a run does, as ansible-playbook spells them. -i, -e, -f, -v and the vault and
# prompt options are declared in cli.py: rb2ansible reads or asks for those itself.
PASSED_OPTIONS = (
    PassedOption("subset", ("-l", "--limit"), "limit", metavar="SUBSET"),
    PassedOption("tags", ("-t", "--tags"), "tags", kind="values", metavar="TAGS"),
    PassedOption("skip_tags", ("--skip-tags",), "skip_tags", kind="values", metavar="TAGS"),
    PassedOption("start_at_task", ("--start-at-task",), "start_at_task", metavar="NAME"),
    PassedOption("check", ("-C", "--check"), "check", kind="flag"),
    PassedOption("diff", ("-D", "--diff"), "diff", kind="flag"),
    PassedOption("remote_user", ("-u", "--user"), "remote_user", metavar="USER"),
    PassedOption("connection", ("-c", "--connection"), "connection", metavar="CONNECTION"),
    PassedOption("timeout", ("-T", "--timeout"), "timeout", metavar="SECONDS"),
    PassedOption("private_key_file", ("--private-key", "--key-file"), "private_key", goes=AT_RUN_TIME,
                 metavar="FILE"),
    PassedOption("connection_password_file", ("--connection-password-file", "--conn-pass-file"),
                 "connection_password_file", goes=AT_RUN_TIME, metavar="FILE"),
    PassedOption("become", ("-b", "--become"), "become", kind="flag"),
    PassedOption("become_method", ("--become-method",), "become_method", metavar="METHOD"),
    PassedOption("become_user", ("--become-user",), "become_user", metavar="USER"),
    PassedOption("become_password_file", ("--become-password-file", "--become-pass-file"),
                 "become_password_file", goes=AT_RUN_TIME, metavar="FILE"),
)
# How the hosts are reached and as whom: what stopping a failed run's processes needs too.
REACHING = {"remote_user", "connection", "timeout", "become", "become_method", "become_user"}
# `export` takes those it records in env/cmdline; the others only matter to a run on this machine.
EXPORTED = {option.field for option in PASSED_OPTIONS if option.goes == RECORDED}


def command_line(option: PassedOption, value) -> list[str]:
    """The option as ansible-playbook's command line takes it (its first long name), or nothing when not given."""
    if value is None or value is False or value == "":
        return []
    name = next(name for name in option.names if name.startswith("--"))
    return [name] if option.kind == "flag" else [name, str(value)]


# --- help: Ansible's words and groups --------------------------------------------------------------------------

# ansible-playbook's dest for an option rb2ansible declares itself, when ansible-playbook has it too.
ANSIBLE_DESTS = {"inventories": "inventory", "extra_vars": "extra_vars", "forks": "forks",
                 "verbosity": "verbosity", "vault_ids": "vault_ids", "vault_password_files": "vault_password_files",
                 "ask_vault_pass": "ask_vault_pass", "ask_become_pass": "become_ask_pass", "ask_pass": "ask_pass",
                 "list_hosts": "listhosts", "list_tasks": "listtasks", "syntax_check": "syntax"}
OWN_GROUP = "rb2ansible options"
GENERAL_GROUP = "Options"


@functools.cache
def ansible_playbook_options() -> dict[str, tuple[str, tuple[str, ...], str]]:
    """ansible-playbook's options from ansible-core's own parser: dest -> (help, spellings, group title)."""
    from ansible.cli.playbook import PlaybookCLI

    cli = PlaybookCLI(["ansible-playbook"])
    cli.init_parser()
    found = {}
    for group in cli.parser._action_groups:  # argparse keeps groups only here
        title = group.title if group.title and group.title not in ("options", "optional arguments") else GENERAL_GROUP
        for action in group._group_actions:
            if action.option_strings:
                found[action.dest] = (action.help or "", tuple(action.option_strings), title)
    return found


class AnsibleOption(click.Option):
    """An option ansible-playbook also has: without help of its own, it shows Ansible's, in Ansible's group."""

    def __init__(self, *args, ansible_dest: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ansible_dest = ansible_dest or ANSIBLE_DESTS.get(self.name or "")

    def ansible_help(self) -> tuple[str, str]:
        if self.ansible_dest is None:
            return "", OWN_GROUP
        help_text, _, group = ansible_playbook_options().get(self.ansible_dest, ("", (), OWN_GROUP))
        return help_text, group

    def get_help_record(self, ctx: click.Context):
        if self.help is None and self.ansible_dest is not None:
            self.help = _sentence(self.ansible_help()[0])
        return super().get_help_record(ctx)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class GroupedHelp(click.Command):
    """`--help` in sections as ansible-playbook's: its general options, Connection Options, Privilege Escalation
    Options, then what rb2ansible adds."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {GENERAL_GROUP: []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is None:
                continue
            group = param.ansible_help()[1] if isinstance(param, AnsibleOption) else OWN_GROUP
            sections.setdefault(group, []).append(record)
        ansible_order = [group for _, _, group in ansible_playbook_options().values()]
        for title in sorted(sections, key=lambda title: ansible_order.index(title) if title in ansible_order
                            else len(ansible_order)):
            if sections.get(title):
                with formatter.section(title):
                    formatter.write_dl(sections[title])


def passed(export: bool) -> list[PassedOption]:
    """The options a command takes: `run` all, `export` those that shape an export."""
    return [option for option in PASSED_OPTIONS if not export or option.field in EXPORTED]


def passed_options(export: bool):
    """click options for the PASSED_OPTIONS a command takes."""
    options = []
    for option in passed(export):
        settings: dict = {"cls": AnsibleOption, "ansible_dest": option.dest}
        if option.kind == "flag":
            settings["is_flag"] = True
        else:
            settings["metavar"] = option.metavar
            settings["multiple"] = option.kind == "values"
        if option.goes == AT_RUN_TIME:
            settings["type"] = click.Path(exists=True, dir_okay=False, resolve_path=True)
        if option.field == "timeout":
            settings["type"] = click.IntRange(min=1)
        options.append(click.option(*option.names, option.field, **settings))
    return options


# --- settings Ansible decides and ansible-runner would change --------------------------------------------------

def host_key_checking() -> bool:
    """Whether Ansible checks host keys, as ansible-playbook started here would see it: the environment
    (ANSIBLE_HOST_KEY_CHECKING, ANSIBLE_SSH_HOST_KEY_CHECKING), else the user's ansible.cfg (ANSIBLE_CONFIG,
    ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg), else Ansible's default: on. The inventory's
    ansible_host_key_checking still overrides it per host, in Ansible. Kept in the memo with a fingerprint of
    that environment and those files (a quarter of a second of Ansible's import on every export and run)."""
    return ansible_memo.remembered_here("host key checking", lambda: (_host_key_checking(), []))


def _host_key_checking() -> bool:
    from ansible import constants
    from ansible.errors import AnsibleError
    from ansible.plugins.loader import connection_loader

    try:
        connection_loader.get("ssh", class_only=True)  # loads the ssh plugin's settings into the config manager
        return bool(constants.config.get_config_value("host_key_checking", plugin_type="connection",
                                                      plugin_name="ssh"))
    except AnsibleError as exc:  # the user's ansible.cfg or environment, theirs to fix
        raise UsageError(f"Ansible's configuration: {exc}") from None
