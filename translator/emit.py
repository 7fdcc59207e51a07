"""Builds the Ansible play and role for a runbook, as data, each task knowing which runbook leaves it stands for."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from . import fusion, variables
from .calls import (
    VARIABLE_RULES,
    emitted_keywords,
    jinja_values,
    keywords,
    module_call,
    user_choice_noqa,
    with_keywords,
)
from .errors import Diagnostic, RunbookInvalid
from .model import IncludeBlock, ModuleCall, ParallelBlock, Runbook, Task, TaskOptions
from .options import keyword, strategy_keywords

COLLECTION = "rb2ansible.runbook"
# Kills what an interrupted or failed run left on a host (see execute.stop_run).
STOP_MODULE = f"{COLLECTION}.stop_run"
# Each run passes its own id; its processes on the hosts carry it (see execute.stop_run).
RUN_ID_VARIABLE = "RB2A_RUN_ID"
RUN_ID_VALUE = "{{ rb2a_run_id | default('') }}"


@dataclass(frozen=True)
class TaskRef:
    """What one emitted Ansible task stands for, so the results mapper can read its events."""

    kind: str  # "leaf": runs the leaf; "steps": runs these leaves fused (fusion.py); "parallel": a dispatcher
    leaf_ids: tuple[str, ...]
    # A dispatcher's children report under the uuid `<its uuid><suffix>`: suffix -> leaf id.
    branches: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def child_at(self, uuid: str) -> str | None:
        """The leaf a child's event is about. The longest known suffix wins: `-b1.0-b0.0` ends with `-b0.0`
        too, and a dispatcher's own uuid (Ansible's, hex and digits) never contains a dot."""
        for start in range(len(uuid)):
            if uuid.startswith("-b", start) and uuid[start:] in self.branches:
                return self.branches[uuid[start:]]
        return None


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
    handlers: list[AnsibleTask] = field(default_factory=list)  # handlers/main.yml: the runbook's `handlers:`

    # Each file is dumped once, when first asked, after compiling: by an export or a run (the text it writes,
    # and the line of each task in it, Compiled.sites), never by `validate` (a third of its time at 3,000 tasks).
    @cached_property
    def dumps(self) -> dict[str, tuple[str, list[tuple[AnsibleTask, int]]]]:
        """Each tasks file as written, with each task (those inside blocks too) and the line it starts on."""
        from .yamlout import task_document  # here: `validate` has no use for the writer's import either

        return {file: task_document(tasks, self.runbook.source.name) for file, tasks in self.task_files.items()}

    @cached_property
    def handlers_dump(self) -> tuple[str, list[tuple[AnsibleTask, int]]]:
        """handlers/main.yml as written ("" without handlers), with each handler's line."""
        from .yamlout import task_document

        return task_document(self.handlers, self.runbook.source.name) if self.handlers else ("", [])

    @property
    def texts(self) -> dict[str, str]:
        return {file: text for file, (text, _) in self.dumps.items()}

    @property
    def handlers_text(self) -> str:
        return self.handlers_dump[0]


@dataclass
class Compiled:
    runbook: Runbook
    role: str  # the role of the runbook itself; included runbooks have roles of their own
    play: dict[str, Any]
    roles: dict[str, RoleOutput]
    played: frozenset[tuple[str, str]] = frozenset()  # (role, tasks file) of each file the play runs

    @cached_property
    def sites(self) -> dict[tuple[str, int], TaskRef]:
        """Where each task that runs in the play sits: ("ROLE/tasks/FILE.yml", line) -> what it stands for,
        found in the text each file is written with: ansible-runner events name a task by that file and line,
        so results follow what a task is, never what it is called."""
        sites: dict[tuple[str, int], TaskRef] = {}
        for name, output in self.roles.items():
            for task, line in output.handlers_dump[1]:
                sites[(f"{name}/handlers/main.yml", line)] = task.ref
            for file, (_, lines) in output.dumps.items():
                if (name, file) not in self.played:
                    continue  # a role's main file for use alone: the play never runs it
                for task, line in lines:
                    if task.ref is not None:
                        sites[(f"{name}/tasks/{file}.yml", line)] = task.ref
        return sites

    def ref_at(self, task_path: str) -> TaskRef | None:
        """The emitted task an event comes from, by the event's task_path, `DIR/ROLE/tasks/FILE.yml:LINE`:
        DIR is wherever the project was written (a run's private directory, an export), so it is ignored."""
        path, _, line = task_path.rpartition(":")
        if not line.isdigit():
            return None
        return self.sites.get(("/".join(Path(path).parts[-3:]), int(line)))

    def ansible_task_name(self, wanted: str) -> str:
        """The play's name for a task the user names as the runbook does (`--start-at-task 'say hello'`):
        Ansible matches names as they are, and the play's start with a capital. Any other name is kept."""
        names = {task.fields.get("name") for role in self.roles.values() for tasks in role.task_files.values()
                 for task in _flat(tasks)}
        return _display(wanted) if wanted not in names and _display(wanted) in names else wanted

    @property
    def tasks(self) -> list[AnsibleTask]:
        return self.roles[self.role].task_files["main"]

    @property
    def fused_runs(self) -> list[int]:
        """How many steps each fused task runs (translator/fusion.py)."""
        return [len(ref.leaf_ids) for ref in self.sites.values() if ref.kind == "steps"]

    @property
    def defaults(self) -> dict[str, Any]:
        return self.roles[self.role].defaults

    @cached_property
    def leaves(self) -> list[ModuleCall]:
        """Every leaf, walked once: validate, the export's files and the results each ask for them."""
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
    for book in [runbook, *(include.runbook for include in runbook.includes)]:
        source = book.source.resolve()
        if source not in names:
            wanted = candidate = role_name(book.name)
            number = 2
            while candidate in names.values():
                candidate, number = f"{wanted}_{number}", number + 1
            names[source] = candidate
    return names


def compile_runbook(runbook: Runbook, fuse: bool | None = False, fast: bool = False) -> Compiled:
    """The runbook as Ansible data. With `fuse`, consecutive plain shell steps of a serial list run as one task
    (translator/fusion.py); None: under `fast` (run --fast), or where that keeps every guarantee of the
    runbook's strategy."""
    roles = role_names(runbook)
    _check_role_names(runbook, set(roles.values()))
    fuse = fusion.wanted(runbook, fuse, fast)
    emitter = _Emitter(runbook, roles, fuse=fuse)
    role = roles[runbook.source.resolve()]
    emitter.roles[role].task_files["main"] = emitter.children(runbook.root, TaskOptions())
    played = frozenset((name, file) for name, output in emitter.roles.items() for file in output.task_files)
    for include in runbook.includes:  # each included runbook also stands alone as a role
        sub = roles[include.runbook.source.resolve()]
        if "main" not in emitter.roles[sub].task_files:
            # Written from the include's copy of the runbook, without the include's place in names.
            alone = _Emitter(include.runbook, roles, strip_path=len(include.path), strip_scope=len(include.scope) + 1,
                             fuse=fuse)
            alone.roles = emitter.roles  # the same files: each name it claims is unique among them
            emitter.roles[sub].task_files["main"] = alone.children(include.runbook.root, _base(include.runbook))
    for output in emitter.roles.values():
        output.handlers = emitter.handlers(output)
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
    return Compiled(runbook, role, play, emitter.roles, played)


def _check_role_names(runbook: Runbook, generated: set[str]) -> None:
    """An existing role a `role` task runs is copied beside the generated roles, under its own name: it cannot
    share that name with a generated role, or with another role from elsewhere."""
    clashes, sources = [], {}
    for leaf in runbook.leaves():
        role = leaf.args.role if leaf.module == "role" else None
        if role is None:
            continue
        if role.name in generated:
            clashes.append(Diagnostic(leaf.location, f"role '{role.name}' has the name of the role rb2ansible "
                                                     f"makes of a runbook here; rename that runbook"))
        elif sources.setdefault(role.name, role.source) != role.source:
            clashes.append(Diagnostic(leaf.location, f"two different roles are named '{role.name}' "
                                                     f"({sources[role.name]} and {role.source}); rename one"))
    if clashes:
        raise RunbookInvalid(clashes)


def _base(runbook: Runbook) -> TaskOptions:
    """What a runbook's own top level asks of every task when it runs as an included role."""
    return TaskOptions(sudo=True) if runbook.sudo else TaskOptions()


class _Emitter:
    def __init__(self, runbook: Runbook, role_of: dict[Path, str], strip_path: int = 0, strip_scope: int = 0,
                 fuse: bool = False):
        self.runbook = runbook
        self.fuse = fuse
        self.strip_path, self.strip_scope = strip_path, strip_scope
        self.role_of = role_of
        self.role = role_of[runbook.source.resolve()]  # the role whose files are being written
        self.roles: dict[str, RoleOutput] = {}
        for book in [runbook, *(include.runbook for include in runbook.includes)]:
            name = role_of[book.source.resolve()]
            self.roles.setdefault(name, RoleOutput(name, book, jinja_values(_own_defaults(book))))
        self.names: set[str] = set()
        # the registered leaves of the parallel block being emitted, each with whether its result is hidden
        self.registers: list[tuple[ModuleCall, bool]] = []
        self.notifiers: dict[str, ModuleCall] = {}  # its leaves that notify handlers, by leaf id
        self.real_paths: dict[Path, Path] = {}
        self.shown_paths: dict[Path, str] = {}  # a runbook file as its tasks' comments name it

    def children(self, block: Task, inherited: TaskOptions) -> list[AnsibleTask]:
        options = block.options.inherit(inherited)
        if isinstance(block, ParallelBlock):
            return self.parallel(block, inherited)
        if not self.fuse:
            return [t for child in block.children for t in self.task(child, options)]
        emitted = []
        for run in fusion.runs(block.children, options):
            emitted += [self.fused(run, options)] if len(run) > 1 else self.task(run[0], options)
        return emitted

    def task(self, task: Task, inherited: TaskOptions) -> list[AnsibleTask]:
        if isinstance(task, ModuleCall):
            return [self.leaf(task, task.options.inherit(inherited))]
        if isinstance(task, IncludeBlock):
            return [self.include(task, inherited)]
        if isinstance(task, ParallelBlock):
            return self.parallel(task, inherited)
        body = self.children(task, inherited)
        return [AnsibleTask(self.comment(task, "serial"), {"name": self.name(f"Serial: {task.name}")}, body)]

    def include(self, include: IncludeBlock, inherited: TaskOptions) -> AnsibleTask:
        """Outside parallel, an include is a role call: the nested runbook's role, one tasks file per call."""
        sub_role = self.role_of[include.runbook.source.resolve()]
        files = self.roles[sub_role].task_files
        site = self.claim_file(sub_role, "__".join(self.path(include)))
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

    def handlers(self, output: RoleOutput) -> list[AnsibleTask]:
        """A runbook's handlers, for its role's handlers/main.yml. Each listens to its runbook name, which is
        what `notify` says, whatever name the emitted task was given."""
        outer_role, self.role = self.role, output.name
        handlers = []
        for handler in output.runbook.handlers:
            task = self.leaf(handler, handler.options.inherit(_base(output.runbook)))
            task.fields["listen"] = handler.name
            handlers.append(task)
        self.role = outer_role
        return handlers

    # -- leaves --------------------------------------------------------------------------------

    def leaf(self, leaf: ModuleCall, options: TaskOptions, in_parallel: bool = False) -> AnsibleTask:
        """A leaf as an Ansible task. Inside a parallel block its events come through the dispatcher, so it
        has no reference of its own, and its `timeout` is the dispatcher's to enforce."""
        fqcn, args, extra = module_call(leaf, self.files_prefix(leaf))
        display = _display(" › ".join((*leaf.scope[self.strip_scope:], leaf.name)))
        fields: dict[str, Any] = {"name": self.name(display)}
        fields[fqcn] = args
        fields.update(with_keywords(extra, options))
        conditions = [variables.to_condition(c) for c in options.when]
        if conditions:
            fields["when"] = conditions[0] if len(conditions) == 1 else conditions
        if options.timeout and leaf.target.background and not in_parallel:
            # A job on the host, polled in place: async_wrapper kills it, with everything it started, at
            # the limit (Ansible's `timeout` only stops waiting, leaving the command running on the host).
            fields["async"], fields["poll"] = options.timeout, 1
        elif options.timeout:
            fields["timeout"] = options.timeout
        if options.until is not None:
            fields["until"] = variables.to_condition(options.until)
        if options.retries is not None:
            fields["retries"] = options.retries
        if options.delay is not None:
            fields["delay"] = options.delay
        if options.register:
            fields["register"] = options.register
        return AnsibleTask(self.comment(leaf, leaf.module), fields, noqa=user_choice_noqa(leaf, fields),
                           ref=None if in_parallel else TaskRef("leaf", (leaf.task_id,)))

    def fused(self, run: list[ModuleCall], options: TaskOptions) -> AnsibleTask:
        """Consecutive plain shell steps as one task of the shell_steps action, which reports each step's own
        result. The steps travel as a task variable, which Ansible templates only when asked: the action
        templates each step just before it runs, so a step that cannot be templated fails after the steps
        before it ran, as its own task would have."""
        first, last = (_display(" › ".join((*leaf.scope[self.strip_scope:], leaf.name))) for leaf in (run[0], run[-1]))
        fields: dict[str, Any] = {"name": self.name(f"{first} … {last} ({len(run)} steps)"),
                                  f"{COLLECTION}.shell_steps": {}}
        fields.update(keywords(options))
        steps = [{"name": leaf.name, **jinja_values(fusion.step_arguments(leaf))} for leaf in run]
        fields["vars"] = {**fields.get("vars", {}), fusion.STEPS_VARIABLE: steps}
        conditions = [variables.to_condition(c) for c in options.when]
        if conditions:
            fields["when"] = conditions[0] if len(conditions) == 1 else conditions
        return AnsibleTask(f"{self.comment(run[0], 'shell')} and {len(run) - 1} more", fields,
                           noqa={("vars", fusion.STEPS_VARIABLE): VARIABLE_RULES},
                           ref=TaskRef("steps", tuple(leaf.task_id for leaf in run)))

    # -- parallel blocks -----------------------------------------------------------------------

    def parallel(self, block: ParallelBlock, inherited: TaskOptions) -> list[AnsibleTask]:
        """One task of the dispatcher action, whose tasks file lists the block's branches; the registers of
        every child then become host variables again, as if the children had run in the play itself."""
        self.registers, self.notifiers = [], {}
        dispatcher, branch_ids = self.dispatcher(block, inherited)
        dispatcher.ref = TaskRef("parallel", tuple(branch_ids.values()), branch_ids)
        if not self.registers and not self.notifiers:
            return [dispatcher]
        variable = dispatcher.fields["register"] = f"{self.role}_rb2a_block_{dispatcher.ref.leaf_ids[0]}"
        notifications = [self.notification(self.notifiers[leaf_id], suffix, variable)
                         for suffix, leaf_id in branch_ids.items() if leaf_id in self.notifiers]
        return [dispatcher, *(self.expose(leaf, hidden, variable) for leaf, hidden in self.registers),
                *notifications]

    def notification(self, leaf: ModuleCall, suffix: str, block_variable: str) -> AnsibleTask:
        """`notify` inside a parallel block: the strategy, which notifies handlers, saw only the dispatcher. So a
        task after it notifies the child's handlers on each host where the dispatcher's result says the child
        changed. The child's uuid is the dispatcher's (hex and dashes, no dot) then its suffix: anchored so,
        `-b0.0` does not also match a nested `-b1.0-b0.0`."""
        pattern = "^[^.]*" + suffix.replace(".", "\\.") + "$"
        changed = (f"{block_variable}.children | selectattr('uuid', 'search', '{pattern}') "
                   "| selectattr('status', 'equalto', 'changed') | list | length > 0")
        fields: dict[str, Any] = {
            "name": self.name(f"Notify for {_display(leaf.name)}"),
            "ansible.builtin.assert": {"that": [True], "quiet": True},
            "changed_when": changed,
            "notify": list(leaf.options.keywords["notify"]),
            "tags": ["always"],
        }
        return AnsibleTask(f"{self.comment(leaf, leaf.module)}: notify", fields)

    def dispatcher(self, block: ParallelBlock, inherited: TaskOptions) -> tuple[AnsibleTask, dict[str, str]]:
        """The block's dispatcher task and, by child uuid suffix (see the action's docs), the leaf ids of its
        tree: `-b<branch>.<step>`, `.<step>` again for a block inside a block, `-b…` again inside a nested block."""
        options = block.options.inherit(inherited)
        # What the strategy applies goes on the dispatcher, which the strategy runs (see options.Keyword).
        on_dispatcher = strategy_keywords(options.keywords)
        options = replace(options, keywords={k: v for k, v in options.keywords.items() if not keyword(k).strategy})
        file = self.claim_file(self.role, f"parallel_{block.name}")
        branches, ids = [], {}
        for index, child in enumerate(block.children):
            entry, entry_ids = self.branch_entry(child, options)
            branches.append(entry)
            prefix = f"-b{index}" if entry.block is not None else f"-b{index}.0"
            ids.update({prefix + suffix: leaf_id for suffix, leaf_id in entry_ids.items()})
        self.roles[self.role].task_files[file] = branches
        fields = {
            "name": self.name(f"Parallel: {block.name}"),
            f"{COLLECTION}.parallel": {"file": f"{file}.yml"},
            # Runs whatever --tags selects: the action filters the children by their own tags.
            "tags": ["always"],
            **emitted_keywords(on_dispatcher),
        }
        return AnsibleTask(self.comment(block, "parallel"), fields), ids

    def branch_entry(self, task: Task, inherited: TaskOptions) -> tuple[AnsibleTask, dict[str, str]]:
        """One entry of a dispatcher's tasks file, and the leaf ids below it by uuid suffix relative to it:
        "" for a leaf itself, `.<step>…` inside a block, `-b…` below a nested dispatcher."""
        options = task.options.inherit(inherited)
        if isinstance(task, ModuleCall):
            if options.register:
                self.registers.append((task, bool(options.no_log)))
            entry = self.leaf(task, options, in_parallel=True)
            if "notify" in entry.fields:  # notified from after the dispatcher (see notification)
                self.notifiers[task.task_id] = task
                del entry.fields["notify"]
            return entry, {"": task.task_id}
        if isinstance(task, ParallelBlock):
            return self.dispatcher(task, inherited)
        if isinstance(task, IncludeBlock):
            # Runs in place inside the branch, below the include's own vars.
            options = replace(options, vars={**inherited.vars, **self.carried_defaults(task), **task.options.vars},
                              sudo=True if task.runbook.sudo and options.sudo is None else options.sudo)
        steps, ids = [], {}
        for index, child in enumerate(task.children):
            entry, entry_ids = self.branch_entry(child, options)
            steps.append(entry)
            ids.update({f".{index}{suffix}": leaf_id for suffix, leaf_id in entry_ids.items()})
        kind = "include" if isinstance(task, IncludeBlock) else "serial"
        name = self.name(f"{'Include' if kind == 'include' else 'Serial'}: {task.name}")
        return AnsibleTask(self.comment(task, kind), {"name": name}, steps), ids

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

    def expose(self, leaf: ModuleCall, hidden: bool, block_variable: str) -> AnsibleTask:
        """`register` inside a parallel block: the child's result, which the dispatcher returned, under the
        runbook's name (a child that did not run registers nothing, as in Ansible)."""
        variable = leaf.options.register
        fields: dict[str, Any] = {
            "name": self.name(f"Register {variable}"),
            "ansible.builtin.set_fact": {variable: f"{{{{ {block_variable}.registered.{variable} }}}}"},
            "when": f"{block_variable}.registered.{variable} is defined",
            "tags": ["always"],
        }
        if hidden:
            fields["no_log"] = True
        return AnsibleTask(f"{self.comment(leaf, leaf.module)}: register {variable}", fields,
                           noqa={("ansible.builtin.set_fact", variable): VARIABLE_RULES})

    def claim_file(self, role: str, wanted: str) -> str:
        """A tasks file name of the role no other place has taken (`a-b` and `a b` each get one)."""
        files = self.roles[role].task_files
        # short enough for any file system, however deep the block (uniqueness comes from the number)
        wanted = re.sub(r"[^a-z0-9_]+", "_", wanted.lower())[:80].strip("_") or "included"
        site, number = wanted, 2
        while site in files or site == "main":
            site, number = f"{wanted}_{number}", number + 1
        files[site] = []  # claimed before its tasks are emitted: a block inside takes another name
        return site

    # -- names and expressions -----------------------------------------------------------------

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
        own = self.role_of.get(self.real(leaf.location.path), self.role)
        # Sibling roles: true in the exported project and beside an `export --role`.
        return "" if own == self.role else f"{{{{ role_path }}}}/../{own}/"

    def path(self, task: Task) -> tuple[str, ...]:
        return task.path[self.strip_path:]

    def comment(self, task: Task, kind: str) -> str:
        shown = self.shown_paths.get(task.location.path)
        if shown is None:  # once per runbook file: comparing and relating paths costs more than the rest
            source, runbook = self.real(task.location.path), self.real(self.runbook.source)
            shown = source.name if source == runbook else os.path.relpath(source, runbook.parent)
            self.shown_paths[task.location.path] = shown
        return f"{shown}:{task.location.line} {kind} '{' > '.join(self.path(task))}'"

    def real(self, path: Path) -> Path:
        """A runbook file's real path, asked of the file system once: every task's comment and files need it."""
        real = self.real_paths.get(path)
        if real is None:
            real = self.real_paths[path] = path.resolve()
        return real


def _flat(tasks: list[AnsibleTask]):
    for task in tasks:
        yield task
        yield from _flat(task.block or [])


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
