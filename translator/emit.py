"""Builds the Ansible play and role for a runbook, as data, each task knowing which runbook leaves it stands for."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import variables, yamlout
from .calls import VARIABLE_RULES, jinja_values, keywords, module_call, user_choice_noqa, with_keywords
from .model import IncludeBlock, ModuleCall, ParallelBlock, Runbook, SerialBlock, Task, TaskOptions, iter_includes
from .schedule import Round, Slot, schedule_parallel

COLLECTION = "rb2ansible.runbook"
JOIN_MODULE = f"{COLLECTION}.async_join"
# Each run passes its own id; its processes on the hosts carry it (see execute.stop_jobs).
RUN_ID_VARIABLE = "RB2A_RUN_ID"
RUN_ID_VALUE = "{{ rb2a_run_id | default('') }}"
# Background jobs get this async limit (seconds) unless the task sets `timeout`: long enough for
# real work, short enough that a job whose controller vanished cannot outlive the day.
DEFAULT_ASYNC_LIMIT = 86400


@dataclass(frozen=True)
class TaskRef:
    """What one emitted Ansible task stands for, so the results mapper can read its events."""

    # "leaf": runs the leaf; "launch": starts it as a job; "join": waits for jobs; "changed": says whether
    # a hidden (no_log) leaf changed something; "gate": fails its parallel block
    kind: str
    leaf_ids: tuple[str, ...]


@dataclass
class AnsibleTask:
    """An emitted task (or block), with a comment pointing back to the runbook line."""

    comment: str
    fields: dict[str, Any]
    block: list[AnsibleTask] | None = None
    noqa: dict[tuple[str, ...], str] = field(default_factory=dict)  # key path -> ansible-lint rules
    ref: TaskRef | None = None  # what its events say about the runbook's leaves; None: nothing


@dataclass
class RoleOutput:
    """One generated role: a runbook's tasks (main, plus one file per place it is included), its defaults."""

    name: str
    runbook: Runbook
    defaults: dict[str, Any]
    task_files: dict[str, list[AnsibleTask]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # each tasks file as written: dumped once


@dataclass
class Compiled:
    runbook: Runbook
    role: str  # the role of the runbook itself; included runbooks have roles of their own
    play: dict[str, Any]
    roles: dict[str, RoleOutput]
    # Where each task that runs in the play sits: ("ROLE/tasks/FILE.yml", line) -> what it stands for.
    sites: dict[tuple[str, int], TaskRef] = field(default_factory=dict)
    # leaf id -> ids of the earlier leaves of its serial lists inside a parallel block: when one of
    # those failed, the leaf is skipped by a guard, and counts as "not run".
    guarded_by: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def ref_at(self, task_path: str) -> TaskRef | None:
        """The emitted task an event comes from, by the event's task_path, `DIR/ROLE/tasks/FILE.yml:LINE`:
        DIR is wherever the project was written (a run's private directory, an export), so it is ignored."""
        path, _, line = task_path.rpartition(":")
        if not line.isdigit():
            return None
        return self.sites.get(("/".join(Path(path).parts[-3:]), int(line)))

    @property
    def tasks(self) -> list[AnsibleTask]:
        return self.roles[self.role].task_files["main"]

    @property
    def defaults(self) -> dict[str, Any]:
        return self.roles[self.role].defaults

    @property
    def leaves(self) -> list[ModuleCall]:
        return self.runbook.leaves()

    @property
    def uses_become(self) -> bool:
        return self.runbook.sudo or any(_has_become(task) for task in _walk(self.runbook.root))


def role_name(runbook_name: str) -> str:
    """Ansible role names are lowercase identifiers (ansible-lint role-name), short enough for a directory name."""
    name = re.sub(r"[^a-z0-9_]+", "_", runbook_name.lower()).strip("_")[:64].rstrip("_")
    return name if name[:1].isalpha() else f"rb_{name}"


def role_names(runbook: Runbook) -> dict[Path, str]:
    """A distinct role name for the runbook and for every runbook it includes, by file."""
    names: dict[Path, str] = {}
    for book in [runbook, *(include.runbook for include in iter_includes(runbook.root))]:
        source = book.source.resolve()
        if source not in names:
            wanted = candidate = role_name(book.name)
            number = 2
            while candidate in names.values():
                candidate, number = f"{wanted}_{number}", number + 1
            names[source] = candidate
    return names


def compile_runbook(runbook: Runbook) -> Compiled:
    roles = role_names(runbook)
    emitter = _Emitter(runbook, roles)
    role = roles[runbook.source.resolve()]
    emitter.roles[role].task_files["main"] = emitter.children(runbook.root, TaskOptions())
    played = frozenset((name, file) for name, output in emitter.roles.items() for file in output.task_files)
    for include in iter_includes(runbook.root):  # each included runbook also stands alone as a role
        sub = roles[include.runbook.source.resolve()]
        if "main" not in emitter.roles[sub].task_files:
            # Written from the include's copy of the runbook, without the include's place in names.
            alone = _Emitter(include.runbook, roles, strip_path=len(include.path), strip_scope=len(include.scope) + 1)
            emitter.roles[sub].task_files["main"] = alone.children(include.runbook.root, _base(include.runbook))
            for name, output in alone.roles.items():
                for file, tasks in output.task_files.items():
                    emitter.roles[name].task_files.setdefault(file, tasks)
    play: dict[str, Any] = {
        "name": _display(runbook.name),
        "hosts": variables.to_jinja(runbook.hosts),
        "gather_facts": runbook.facts,
    }
    if runbook.sudo:
        play["become"] = True  # covers `sudo: true`
    # Marks every process of this run on the hosts, so an interrupted run can find and stop them.
    play["environment"] = {RUN_ID_VARIABLE: RUN_ID_VALUE}
    if runbook.strategy != "linear":
        play["strategy"] = runbook.strategy
    if runbook.rolling is not None:
        play["serial"] = runbook.rolling
    play["roles"] = [{"role": role}]
    return Compiled(runbook, role, play, emitter.roles, _dump_tasks(emitter.roles, played), emitter.guarded_by)


def _dump_tasks(roles: dict[str, RoleOutput], played: frozenset[tuple[str, str]]) -> dict[tuple[str, int], TaskRef]:
    """Dumps every tasks file once, and finds in the text the line of each task the play runs: ansible-runner
    events name a task by that file and line, so results follow what a task is, never what it is called."""
    sites: dict[tuple[str, int], TaskRef] = {}
    for name, output in roles.items():
        for file, tasks in output.task_files.items():
            text = output.texts[file] = yamlout.task_document(tasks, output.runbook.source.name)
            if (name, file) not in played:
                continue  # a role's main file for use alone: the play never runs it
            for task, line in yamlout.task_lines(tasks, text):
                if task.ref is not None:
                    sites[(f"{name}/tasks/{file}.yml", line)] = task.ref
    return sites


def _base(runbook: Runbook) -> TaskOptions:
    """What a runbook's own top level asks of every task when it runs as an included role."""
    return TaskOptions(sudo=True) if runbook.sudo else TaskOptions()


class _Emitter:
    def __init__(self, runbook: Runbook, role_of: dict[Path, str], strip_path: int = 0, strip_scope: int = 0):
        self.runbook = runbook
        self.strip_path, self.strip_scope = strip_path, strip_scope
        self.role_of = role_of
        self.role = role_of[runbook.source.resolve()]  # the role whose files are being written
        self.roles: dict[str, RoleOutput] = {}
        for book in [runbook, *(include.runbook for include in iter_includes(runbook.root))]:
            name = role_of[book.source.resolve()]
            self.roles.setdefault(name, RoleOutput(name, book, jinja_values(_own_defaults(book))))
        self.names: set[str] = set()
        self.join_of: dict[str, str] = {}  # background leaf id -> the variable its join registers
        self.guarded_by: dict[str, tuple[str, ...]] = {}
        self.tolerated: set[str] = set()  # ids of leaves inside parallel blocks whose errors are ignored

    def children(self, block: Task, inherited: TaskOptions) -> list[AnsibleTask]:
        options = block.options.inherit(inherited)
        if isinstance(block, ParallelBlock):
            return self.parallel(block, inherited)
        return [t for child in block.children for t in self.task(child, options)]

    def task(self, task: Task, inherited: TaskOptions) -> list[AnsibleTask]:
        if isinstance(task, ModuleCall):
            options = task.options.inherit(inherited)
            if options.timeout and task.target.background:
                return self.timed(task, options)
            return [self.leaf(task, options)]
        if isinstance(task, IncludeBlock):
            return [self.include(task, inherited)]
        body = self.children(task, inherited)
        kind = "serial" if isinstance(task, SerialBlock) else "parallel"
        name = self.name(f"{kind.capitalize()}: {task.name}")
        return [AnsibleTask(self.comment(task, kind), {"name": name}, body)]

    def include(self, include: IncludeBlock, inherited: TaskOptions) -> AnsibleTask:
        """Outside parallel, an include is a role call: the nested runbook's role, one tasks file per call."""
        sub_role = self.role_of[include.runbook.source.resolve()]
        files = self.roles[sub_role].task_files
        wanted = re.sub(r"[^a-z0-9_]+", "_", "__".join(self.path(include)).lower()).strip("_") or "included"
        site, number = wanted, 2
        while site in files or site == "main":  # `a-b` and `a b` each get a file; main is the role's own
            site, number = f"{wanted}_{number}", number + 1
        files[site] = []  # claimed before its tasks are emitted: an include inside takes another name
        outer_role, self.role = self.role, sub_role
        files[site] = self.children(include.children[0], _base(include.runbook))
        self.role = outer_role
        fields: dict[str, Any] = {
            "name": self.name(f"Include {include.name}"),
            "ansible.builtin.import_role": {"name": sub_role, "tasks_from": site},
        }
        fields.update(keywords(include.options.inherit(inherited)))
        conditions = [variables.to_condition(c) for c in include.options.inherit(inherited).when]
        if conditions:
            fields["when"] = conditions[0] if len(conditions) == 1 else conditions
        noqa = {("vars", name): VARIABLE_RULES for name in fields.get("vars", {})}
        return AnsibleTask(self.comment(include, "include"), fields, noqa=noqa)

    # -- leaves --------------------------------------------------------------------------------

    def leaf(self, leaf: ModuleCall, options: TaskOptions, *, guards=(), background=False,
             in_parallel=False) -> AnsibleTask:
        fqcn, args, extra = module_call(leaf, self.files_prefix(leaf))
        kind = "launch" if background else "leaf"
        display = _display(" › ".join((*leaf.scope[self.strip_scope:], leaf.name)))
        fields: dict[str, Any] = {"name": self.name(display)}
        fields[fqcn] = args
        fields.update(with_keywords(extra, options))
        conditions = [self.guard(guards)] if guards else []
        conditions += [variables.to_condition(c) for c in options.when]
        if conditions:
            fields["when"] = conditions[0] if len(conditions) == 1 else conditions
        if background:
            fields["async"] = options.timeout or DEFAULT_ASYNC_LIMIT
            fields["poll"] = 0
        elif options.timeout:  # a module Ansible cannot run as a job: Ansible's own task timeout
            fields["timeout"] = options.timeout
        if options.until is not None:
            fields["until"] = variables.to_condition(options.until)
        if options.retries is not None:
            fields["retries"] = options.retries
        if options.delay is not None:
            fields["delay"] = options.delay
        if in_parallel or options.register:
            fields["register"] = self.launch_var(leaf) if background else self.result_var(leaf)
        if in_parallel:
            # A failed child must not stop its siblings; the block's gate fails after the join.
            fields["ignore_errors"] = True
        return AnsibleTask(self.comment(leaf, leaf.module), fields, noqa=user_choice_noqa(leaf, fields),
                           ref=TaskRef(kind, (leaf.task_id,)))

    # -- parallel blocks -----------------------------------------------------------------------

    def parallel(self, block: ParallelBlock, inherited: TaskOptions) -> list[AnsibleTask]:
        rounds = schedule_parallel(block, inherited, self.carried_defaults)
        for round_ in rounds:
            for slot in round_.background:
                self.join_of[slot.leaf.task_id] = self.join_var(round_.background[0].leaf)
        slots = [s for r in rounds for s in r.slots]
        # `ignore_errors` on a child: its failure is reported, and stops neither its serial list nor the block.
        self.tolerated.update(s.leaf.task_id for s in slots if s.options.ignore_errors)
        tasks: list[AnsibleTask] = []
        for round_ in rounds:
            tasks += [self.slot(s, background=True) for s in round_.background]
            for slot in round_.foreground:
                tasks.append(self.slot(slot, background=False))
                if slot.options.no_log:
                    tasks.append(self.hidden_change(slot.leaf))
            if round_.background:
                tasks.append(self.join(block, round_))
                tasks += [self.expose(s.leaf) for s in round_.background if s.leaf.options.register]
        fallible = [s.leaf for s in slots if s.leaf.task_id not in self.tolerated]
        if fallible:
            tasks.append(self.gate(block, fallible))
        return tasks

    def carried_defaults(self, include: IncludeBlock) -> dict[str, Any]:
        """Inside parallel an included runbook's tasks run in this role: its defaults join this role's
        defaults (below the inventory, as everywhere), except names this role already gives another
        value, which travel with its tasks as task vars instead."""
        defaults = self.roles[self.role].defaults
        carried = {}
        for name, value in jinja_values(include.defaults).items():
            if defaults.setdefault(name, value) != value:
                carried[name] = value
        return carried

    def slot(self, slot: Slot, background: bool) -> AnsibleTask:
        guards = tuple(g for g in slot.guards if g.task_id not in self.tolerated)
        if guards:
            self.guarded_by[slot.leaf.task_id] = tuple(g.task_id for g in guards)
        return self.leaf(slot.leaf, slot.options, guards=guards, background=background, in_parallel=True)

    def hidden_change(self, leaf: ModuleCall) -> AnsibleTask:
        """Whether a `no_log` child changed something, and nothing else: ansible-runner replaces a hidden
        result by one word, `changed` included, while the registered result keeps it."""
        fields = {
            "name": self.name(f"Changed {leaf.name}"),
            "ansible.builtin.debug": {"msg": f"{{{{ ({self.result_var(leaf)} | default({{}})) is changed }}}}"},
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(leaf, leaf.module)}: whether it changed something", fields,
                           ref=TaskRef("changed", (leaf.task_id,)))

    def join(self, block: ParallelBlock, round_: Round) -> AnsibleTask:
        comment = f"{self.comment(block, 'parallel')}, round {round_.number}: one round trip waits for every job"
        return self.join_jobs([(s.leaf, s.options) for s in round_.background], comment)

    def join_jobs(self, launched: list[tuple[ModuleCall, TaskOptions]], comment: str) -> AnsibleTask:
        leaves = [leaf for leaf, _ in launched]
        ids = tuple(leaf.task_id for leaf in leaves)
        name = self.name(f"Wait for {', '.join(leaf.name for leaf in leaves)}")
        # The whole launch result: its results_file finds the job under whichever user ran it,
        # and a launch that failed comes back failed.
        jobs = {leaf.task_id: f'{{{{ {self.launch_var(leaf)} | default("") }}}}' for leaf in leaves}
        fields: dict[str, Any] = {"name": name, JOIN_MODULE: {"jobs": jobs}}
        if any(options.sudo or options.sudo_user for _, options in launched):
            fields["become"] = True  # root can read every job's file and signal its processes
        fields["register"] = self.join_var(leaves[0])
        # Joins must run whatever --tags selects: a launched job is always waited for.
        fields["tags"] = ["always"]
        return AnsibleTask(comment, fields, ref=TaskRef("join", ids))

    def timed(self, leaf: ModuleCall, options: TaskOptions) -> list[AnsibleTask]:
        """A task with `timeout`, in order: a job of its own, joined at once, so it is killed at the
        limit (with everything it started) and its failure stops what follows."""
        join_var = self.join_var(leaf)
        self.join_of[leaf.task_id] = join_var
        join = self.join_jobs([(leaf, options)], f"{self.comment(leaf, leaf.module)}: its job, waited for")
        join.fields["failed_when"] = f"{join_var}.jobs.{leaf.task_id}.failed | default(false)"
        if options.ignore_errors:
            join.fields["ignore_errors"] = True
        tasks = [self.leaf(leaf, options, background=True, in_parallel=True), join]
        if leaf.options.register:
            tasks.append(self.expose(leaf))
        return tasks

    def expose(self, leaf: ModuleCall) -> AnsibleTask:
        """`register` on a background child: its finished result, from the join, under the runbook's name."""
        variable = leaf.options.register
        fields = {
            "name": self.name(f"Register {variable}"),
            "ansible.builtin.set_fact": {variable: f"{{{{ {self.join_of[leaf.task_id]}.jobs.{leaf.task_id} }}}}"},
            "when": f"{self.join_of[leaf.task_id]}.jobs.{leaf.task_id} is defined",
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(leaf, leaf.module)}: register {variable}", fields,
                           noqa={("ansible.builtin.set_fact", variable): VARIABLE_RULES})

    def gate(self, block: ParallelBlock, leaves: list[ModuleCall]) -> AnsibleTask:
        ids = tuple(leaf.task_id for leaf in leaves)
        fields = {
            "name": self.name(f"Check {block.name}"),
            "ansible.builtin.fail": {"msg": f"a task of the parallel block '{block.name}' failed"},
            "when": " or ".join(f"({self.failed(leaf)})" for leaf in leaves),
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(block, 'parallel')}: fails once every child has ended", fields,
                           ref=TaskRef("gate", ids))

    # -- names and expressions -----------------------------------------------------------------

    def result_var(self, leaf: ModuleCall) -> str:
        return leaf.options.register or self.launch_var(leaf)

    def launch_var(self, leaf: ModuleCall) -> str:
        return f"{self.role}_rb2a_{leaf.task_id}"

    def join_var(self, first_leaf: ModuleCall) -> str:
        return f"{self.role}_rb2a_join_{first_leaf.task_id}"

    def failed(self, leaf: ModuleCall) -> str:
        """A Jinja test that is true when a leaf inside a parallel block failed."""
        join = self.join_of.get(leaf.task_id)
        if join is None:
            return f"({self.result_var(leaf)} | default({{}})) is failed"
        # The join reports failed launches as well as failed jobs.
        return f"{join}.jobs.{leaf.task_id}.failed | default(false)"

    def guard(self, earlier: tuple[ModuleCall, ...]) -> str:
        return "not (" + " or ".join(f"({self.failed(leaf)})" for leaf in earlier) + ")"

    def name(self, wanted: str) -> str:
        """A task name this emitter has not used before, so Ansible's own output tells tasks apart.
        Results never go by names (see Compiled.sites): a name only has to be readable."""
        name, number = wanted, 2
        while name in self.names:  # ends: each turn tries a name never tried before
            name, number = f"{wanted} ({number})", number + 1
        self.names.add(name)
        return name

    def files_prefix(self, leaf: ModuleCall) -> str:
        """A leaf of an included runbook emitted into another role finds its files through its own role."""
        own = self.role_of.get(leaf.location.path.resolve(), self.role)
        # Sibling roles: true in the exported project and beside an `export --role`.
        return "" if own == self.role else f"{{{{ role_path }}}}/../{own}/"

    def path(self, task: Task) -> tuple[str, ...]:
        return task.path[self.strip_path:]

    def comment(self, task: Task, kind: str) -> str:
        source = task.location.path
        shown = source.name if source.resolve() == self.runbook.source.resolve() else \
            os.path.relpath(source.resolve(), self.runbook.source.resolve().parent)
        return f"{shown}:{task.location.line} {kind} '{' > '.join(self.path(task))}'"


def _walk(task: Task):
    yield task
    for child in getattr(task, "children", ()):
        yield from _walk(child)


def _has_become(task: Task) -> bool:
    return bool(task.options.sudo or task.options.sudo_user)


def _display(name: str) -> str:
    """Ansible task names start with a capital (ansible-lint name[casing]); results keep the original."""
    return name[:1].upper() + name[1:]


def _own_defaults(runbook: Runbook) -> dict[str, Any]:
    return dict(runbook.vars)
