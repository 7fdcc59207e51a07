"""Builds the Ansible play and role for a runbook, as data, plus the index that maps events back."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import variables
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

    kind: str  # "leaf": runs the leaf; "launch": starts it as a job; "join": waits for jobs; "gate"
    leaf_ids: tuple[str, ...]


@dataclass
class AnsibleTask:
    """An emitted task (or block), with a comment pointing back to the runbook line."""

    comment: str
    fields: dict[str, Any]
    block: list[AnsibleTask] | None = None
    noqa: dict[tuple[str, ...], str] = field(default_factory=dict)  # key path -> ansible-lint rules


@dataclass
class RoleOutput:
    """One generated role: a runbook's tasks (main, plus one file per place it is included), its defaults."""

    name: str
    runbook: Runbook
    defaults: dict[str, Any]
    task_files: dict[str, list[AnsibleTask]] = field(default_factory=dict)


@dataclass
class Compiled:
    runbook: Runbook
    role: str  # the role of the runbook itself; included runbooks have roles of their own
    play: dict[str, Any]
    roles: dict[str, RoleOutput]
    index: dict[str, TaskRef] = field(default_factory=dict)  # emitted task name -> meaning
    # leaf id -> ids of the earlier leaves of its serial lists inside a parallel block: when one of
    # those failed, the leaf is skipped by a guard, and counts as "not run".
    guarded_by: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
    return Compiled(runbook, role, play, emitter.roles, emitter.index, emitter.guarded_by)


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
        self.index: dict[str, TaskRef] = {}
        self.join_of: dict[str, str] = {}  # background leaf id -> the variable its join registers
        self.guarded_by: dict[str, tuple[str, ...]] = {}

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
        name = self.name(f"{kind.capitalize()}: {task.name}", None)
        return [AnsibleTask(self.comment(task, kind), {"name": name}, body)]

    def include(self, include: IncludeBlock, inherited: TaskOptions) -> AnsibleTask:
        """Outside parallel, an include is a role call: the nested runbook's role, one tasks file per call."""
        sub_role = self.role_of[include.runbook.source.resolve()]
        site = re.sub(r"[^a-z0-9_]+", "_", "__".join(self.path(include)).lower()).strip("_") or "included"
        outer_role, self.role = self.role, sub_role
        self.roles[sub_role].task_files[site] = self.children(include.children[0], _base(include.runbook))
        self.role = outer_role
        fields: dict[str, Any] = {
            "name": self.name(f"Include {include.name}", None),
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
        fields: dict[str, Any] = {"name": self.name(display, TaskRef(kind, (leaf.task_id,)))}
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
        return AnsibleTask(self.comment(leaf, leaf.module), fields, noqa=user_choice_noqa(leaf, fields))

    # -- parallel blocks -----------------------------------------------------------------------

    def parallel(self, block: ParallelBlock, inherited: TaskOptions) -> list[AnsibleTask]:
        rounds = schedule_parallel(block, inherited, self.carried_defaults)
        for round_ in rounds:
            for slot in round_.background:
                self.join_of[slot.leaf.task_id] = self.join_var(round_.background[0].leaf)
        tasks: list[AnsibleTask] = []
        for round_ in rounds:
            tasks += [self.slot(s, background=True) for s in round_.background]
            tasks += [self.slot(s, background=False) for s in round_.foreground]
            if round_.background:
                tasks.append(self.join(block, round_))
                tasks += [self.expose(s.leaf) for s in round_.background if s.leaf.options.register]
        tasks.append(self.gate(block, [s.leaf for r in rounds for s in r.slots]))
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
        if slot.guards:
            self.guarded_by[slot.leaf.task_id] = tuple(g.task_id for g in slot.guards)
        return self.leaf(slot.leaf, slot.options, guards=slot.guards, background=background, in_parallel=True)

    def join(self, block: ParallelBlock, round_: Round) -> AnsibleTask:
        comment = f"{self.comment(block, 'parallel')}, round {round_.number}: one round trip waits for every job"
        return self.join_jobs([(s.leaf, s.options) for s in round_.background], comment)

    def join_jobs(self, launched: list[tuple[ModuleCall, TaskOptions]], comment: str) -> AnsibleTask:
        leaves = [leaf for leaf, _ in launched]
        ids = tuple(leaf.task_id for leaf in leaves)
        name = self.name(f"Wait for {', '.join(leaf.name for leaf in leaves)}", TaskRef("join", ids))
        # The whole launch result: its results_file finds the job under whichever user ran it,
        # and a launch that failed comes back failed.
        jobs = {leaf.task_id: f'{{{{ {self.launch_var(leaf)} | default("") }}}}' for leaf in leaves}
        fields: dict[str, Any] = {"name": name, JOIN_MODULE: {"jobs": jobs}}
        if any(options.sudo or options.sudo_user for _, options in launched):
            fields["become"] = True  # root can read every job's file and signal its processes
        fields["register"] = self.join_var(leaves[0])
        # Joins must run whatever --tags selects: a launched job is always waited for.
        fields["tags"] = ["always"]
        return AnsibleTask(comment, fields)

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
            "name": self.name(f"Register {variable}", TaskRef("internal", (leaf.task_id,))),
            "ansible.builtin.set_fact": {variable: f"{{{{ {self.join_of[leaf.task_id]}.jobs.{leaf.task_id} }}}}"},
            "when": f"{self.join_of[leaf.task_id]}.jobs.{leaf.task_id} is defined",
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(leaf, leaf.module)}: register {variable}", fields,
                           noqa={("ansible.builtin.set_fact", variable): VARIABLE_RULES})

    def gate(self, block: ParallelBlock, leaves: list[ModuleCall]) -> AnsibleTask:
        ids = tuple(leaf.task_id for leaf in leaves)
        fields = {
            "name": self.name(f"Check {block.name}", TaskRef("gate", ids)),
            "ansible.builtin.fail": {"msg": f"a task of the parallel block '{block.name}' failed"},
            "when": " or ".join(f"({self.failed(leaf)})" for leaf in leaves),
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(block, 'parallel')}: fails once every child has ended", fields)

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

    def name(self, wanted: str, ref: TaskRef | None) -> str:
        """A task name not used before; every name is kept, so no event is ever taken for another task's."""
        name = wanted
        while name in self.index:
            name = f"{wanted} ({len(self.index)})"
        self.index[name] = ref or TaskRef("internal", ())
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
