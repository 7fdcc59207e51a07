"""`rb2ansible init`: a new AutomateJS-layout project that runs as it is, on localhost."""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError

FILES = {
    "run.yml": """\
name: my-runbook
description: A first runbook; run it with `rb2ansible run .`
# hosts: web            # an Ansible host pattern; without it the runbook runs on localhost
tasks:
- name: greet
  echo: Hello, ${who}!
- name: make the work directory
  ansible.builtin.file:   # any Ansible module works, by short name or FQCN
    path: ${workdir}
    state: directory
    mode: '0755'
- name: prepare
  parallel:             # these start together and overlap in time
  - name: write the note
    template:
      source: note.j2
      destination: ${workdir}/note.txt
      mode: '0644'
      variables:
        greeting: Hello from rb2ansible
  - name: count to three
    shell: for i in 1 2 3; do echo $i; sleep 1; done
- name: show the note
  shell: cat ${workdir}/note.txt
""",
    "var.yml": """\
# Variables of the runbook: inventory vars, --vault files and -e override them.
who: world
workdir: /tmp/my-runbook
""",
    "templates/note.j2": "{{ greeting }}, written on {{ inventory_hostname }}.\n",
    "files/.keep": "",
    "modules/.keep": "",
}


def scaffold(directory: Path) -> list[Path]:
    """Write the starter files; refuses to overwrite anything already there."""
    existing = [directory / name for name in FILES if (directory / name).exists()]
    if existing:
        raise UsageError(f"{existing[0]} already exists; `init` only writes into a new project")
    written = []
    for name, text in FILES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
