"""Spike: add one alias host of the current host for a branch (track) of a parallel block.

The alias gets, as host variables, a lazy reference to each of the parent's host-scoped
variables (`{{ hostvars[parent][name] }}`), so values are templated in the parent's context on
use and never travel in a result (vault values stay encrypted until used; nothing secret in
events). Run it with a loop over the tracks: the strategy adds one host per `add_host` result
item.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

try:  # ansible-core >= 2.19: strings made by a plugin are not templated unless trusted
    from ansible.template import trust_as_template
    LAZY_REFERENCES_WORK = True
except ImportError:  # 2.18 marks every task result unsafe: a reference would stay a literal string
    LAZY_REFERENCES_WORK = False

    def trust_as_template(value):
        return value

# Variables Ansible computes per host itself: the alias gets its own, or they are play-wide.
MAGIC = {
    "inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars", "omit",
    "playbook_dir", "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_batch",
    "ansible_play_name", "ansible_play_role_names", "ansible_role_names", "ansible_dependent_role_names",
    "role_names", "ansible_version", "ansible_playbook_python", "ansible_config_file", "ansible_check_mode",
    "ansible_diff_mode", "ansible_forks", "ansible_inventory_sources", "ansible_skip_tags", "ansible_run_tags",
    "ansible_verbosity", "ansible_limit", "ansible_search_path", "ansible_collection_name", "environment", "vars",
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False  # pure controller-side (ansible-core >= 2.18)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        parent = task_vars["inventory_hostname"]
        block, track = args["block"], str(args["track"])
        hostvars = task_vars["hostvars"]
        alias = f"{parent}~{block}~{track}"
        if self._task.delegate_to and self._task.delegate_to != alias:
            return dict(result, failed=True, msg=f"delegate_to must be the alias {alias} (it receives the facts)")
        extra = set(hostvars._variable_manager.extra_vars)  # -e applies to the alias anyway
        names = [n for n in hostvars.raw_get(parent) if n not in MAGIC and n not in extra]
        host_vars = {n: trust_as_template(f"{{{{ hostvars[rb2a_parent][{n!r}] }}}}") for n in names}
        if args.get("copy_values") or not LAZY_REFERENCES_WORK:
            # Values templated now, in the parent's context: hostvars[inventory_hostname] then works in a
            # branch, at the price of decrypted vault values inside this (no_log) result.
            parent_vars = hostvars[parent]
            for name in names:
                try:
                    host_vars[name] = parent_vars[name]
                except Exception:  # a variable that does not template stays a lazy reference
                    pass
        if "ansible_host" not in names:  # else the alias would connect to its own (unresolvable) name
            host_vars["ansible_host"] = parent
        host_vars.update(rb2a_parent=parent, rb2a_block=block, rb2a_track=track,
                         rb2a_tasks=args.get("tasks", f"{block}/{track}.yml"))
        if self._task.delegate_to and self._task.delegate_facts:
            # With delegate_to: ALIAS and delegate_facts: true the strategy stores these facts for the
            # alias (after adding it: add_host is handled first), so ansible_facts works in branches.
            result["ansible_facts"] = dict(hostvars.raw_get(parent).get("ansible_facts", {}))
        groups = ["rb2a_branch", f"rb2a_block_{block}"] + list(args.get("groups", []))
        if hasattr(ActionBase, "add_host"):
            # ansible-core >= 2.21: a worker adds hosts through an (experimental) RPC to the strategy;
            # an `add_host` key in a result is no longer acted on.
            self.add_host(alias, host_vars=host_vars, parent_group_names=groups)
        else:
            result["add_host"] = {"host_name": alias, "groups": groups, "host_vars": host_vars}
        result["changed"] = False
        return result
