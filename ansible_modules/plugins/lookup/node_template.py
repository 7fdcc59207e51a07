# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup that renders an AutomateJS template (a CommonJS module exporting a function of its variables) with Node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: node_template
short_description: Render an AutomateJS JavaScript template with Node on the controller
version_added: "0.2.0"
description:
  - AutomateJS templates are CommonJS modules whose export is a function of the variables that returns
    the file's text. This lookup renders one the way AutomateJS did, by requiring it with Node and calling
    the exported function with the variables, and returns the text the function returns (or the text its
    promise resolves to).
  - The variables reach Node as JSON on its standard input, never on its command line.
  - Node runs on the controller, like every lookup; C(node) must be on the PATH (Debian's C(nodejs)).
  - Use the result as the C(content) of M(ansible.builtin.copy), which writes it with the usual
    mode, owner, diff and check mode semantics.
options:
  _terms:
    description: The template, found where M(ansible.builtin.template) finds its C(src) (the role's C(templates/)).
    required: true
  template_vars:
    description: The variables the template's function is called with (the name the template lookup uses).
    type: dict
    default: {}
  timeout:
    description: Seconds Node may take before the lookup fails.
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Write the greeting
  ansible.builtin.copy:
    content: "{{ lookup('rb2ansible.runbook.node_template', 'greeting.js', template_vars=greeting_variables) }}"
    dest: /etc/greeting
    mode: "0644"
  vars:
    greeting_variables: {name: Anthony}
"""

RETURN = r"""
_raw:
  description: The rendered text.
  type: list
  elements: str
"""

import json
import shutil
import subprocess
from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

# Loads the template by its absolute path (argv[1]; argv[2] is its name as the task gave it), calls its
# export with the JSON on stdin, and writes what it returns. Anything else ends with one line on stderr: the
# error (and the template's own line in its stack), or how the template is not shaped as AutomateJS expects.
RENDER = r"""
const [path, shown] = process.argv.slice(1);
const fail = (what, error) => {
  const where = String((error && error.stack) || '').split('\n').find((line) => line.includes(path));
  process.stderr.write(`${what}: ${error}${where ? ` (${where.trim().replace(path, shown)})` : ''}\n`);
  process.exit(1);
};
let render;
try {
  render = require(path);
} catch (error) {
  fail('loading it failed', error);
}
if (typeof render !== 'function') {
  process.stderr.write(`it exports ${render === null ? 'null' : typeof render}, not a function of the variables ` +
    '(an AutomateJS template is module.exports = (vars) => `...`)\n');
  process.exit(2);
}
const variables = JSON.parse(require('fs').readFileSync(0, 'utf8'));
Promise.resolve().then(() => render(variables)).then((text) => {
  if (typeof text !== 'string' && !Buffer.isBuffer(text)) {
    process.stderr.write(`its function returned ${text === null ? 'null' : typeof text}, not text\n`);
    process.exit(2);
  }
  process.stdout.write(text);
}, (error) => fail('its function failed', error));
"""

INSTALL_HINT = "install Node.js (Debian: apt-get install nodejs)"


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleError("node_template renders one template at a time")
        template = self.find_file_in_search_path(variables, "templates", terms[0])
        node = shutil.which("node")
        if node is None:
            raise AnsibleError(f"cannot render the JavaScript template {terms[0]}: `node` is not installed on the "
                               f"controller; {INSTALL_HINT}")
        timeout = self.get_option("timeout")
        try:
            variables = json.dumps(_plain(self.get_option("template_vars")))
            done = subprocess.run([node, "-e", RENDER, template, terms[0]], input=variables, capture_output=True,
                                  encoding="utf-8", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AnsibleError(f"the JavaScript template {terms[0]} did not finish rendering within {timeout} s") \
                from None
        if done.returncode != 0:
            reason = done.stderr.strip() or f"node exited with status {done.returncode}"
            raise AnsibleError(f"cannot render the JavaScript template {terms[0]}: {reason}")
        return [done.stdout]


def _plain(value):
    """Ansible's containers and tagged strings as the JSON types they stand for."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)
