"""Spike candidate (iii): after the user's sources, clone every host into one alias per branch."""

from __future__ import annotations

try:  # ansible-core >= 2.19 templates only trusted strings
    from ansible.template import trust_as_template
except ImportError:
    def trust_as_template(value):
        return value
from ansible.plugins.inventory.constructed import InventoryModule as Constructed

DOCUMENTATION = """
name: branch_clones
short_description: clone hosts into branch aliases (spike)
description: For each block and track listed, adds HOST~BLOCK~TRACK with lazy references to HOST's variables.
options:
  plugin: {description: token, required: true, choices: [rb2a.spike.branch_clones]}
  blocks: {description: block name to list of tracks, type: dict, required: true}
  registered: {description: names registered before a block, referenced lazily too, type: list, default: []}
  use_vars_plugins: {description: read host_vars/group_vars files for the parents, type: bool, default: true}
"""


class InventoryModule(Constructed):  # for get_all_host_vars: host, group and vars-plugin variables
    NAME = "rb2a.spike.branch_clones"

    def verify_file(self, path):
        return path.endswith(("branches.yml", "branches.yaml"))

    def parse(self, inventory, loader, path, cache=False):
        super(Constructed, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        sources = inventory.processed_sources
        blocks, registered = self.get_option("blocks"), self.get_option("registered")
        inventory.add_group("rb2a_branch")
        parents = [h for h in list(inventory.hosts.values()) if "rb2a_parent" not in h.vars]
        for parent in parents:
            names = set(self.get_all_host_vars(parent, loader, sources)) | set(registered)
            for block, tracks in blocks.items():
                for track in tracks:
                    alias = inventory.add_host(f"{parent.name}~{block}~{track}", group="rb2a_branch")
                    inventory.add_group(f"rb2a_block_{block}")
                    inventory.add_child(f"rb2a_block_{block}", alias)
                    for name in names:
                        reference = trust_as_template(f"{{{{ hostvars[rb2a_parent][{name!r}] }}}}")
                        inventory.set_variable(alias, name, reference)
                    for key, value in dict(rb2a_parent=parent.name, rb2a_block=block, rb2a_track=str(track),
                                           rb2a_tasks="fidelity/branch_probe.yml").items():
                        inventory.set_variable(alias, key, value)
