"""The typed, frozen runbook model every stage after the loader works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import Diagnostic, Location


@dataclass(frozen=True)
class VaultText:
    """An inline `!vault` value: kept encrypted all the way into the generated files."""

    ciphertext: str


@dataclass(frozen=True)
class ModuleInfo:
    """What a task's module key resolved to, at validation time."""

    key: str  # as written in the runbook
    fqcn: str | None  # the Ansible module emitted, None for flow constructs
    kind: str  # "core", "flow", "easy" or "ansible"
    background: bool  # can run as an Ansible async job
    foreground_reason: str = ""  # why not, in words for `plan`
    easy: Any = None  # the EasyModule behind an easy module
    core: Any = None  # the CoreModule (translator/modules/<key>.py) behind a core module
    once_for_all: bool = False  # Ansible runs it once, on the first host, for all of them (pause)


@dataclass(frozen=True)
class ModuleArguments:
    """The arguments of an easy or Ansible module: a mapping, a free-form string, or nothing."""

    values: dict[str, Any] | str | None


@dataclass(frozen=True)
class TaskOptions:
    """The keywords a task may carry besides its module; composites pass theirs down to leaves."""

    when: tuple[Any, ...] = ()
    sudo: bool | None = None
    sudo_user: str | None = None
    ignore_errors: bool | None = None
    timeout: int | None = None
    retries: int | None = None
    delay: int | None = None
    until: Any = None
    tags: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    register: str | None = None
    no_log: bool | None = None  # keep the task's arguments and results out of output and results
    # Ansible's own task keywords (loop, notify, delegate_to...), by name, as the runbook wrote them:
    # options.ANSIBLE_KEYWORDS says how each is read, inherited and emitted.
    keywords: dict[str, Any] = field(default_factory=dict)

    def inherit(self, outer: TaskOptions) -> TaskOptions:
        """These options seen from inside a block carrying `outer`: inner values win."""
        return TaskOptions(
            when=outer.when + self.when,
            sudo=self.sudo if self.sudo is not None else outer.sudo,
            sudo_user=self.sudo_user or outer.sudo_user,
            ignore_errors=self.ignore_errors if self.ignore_errors is not None else outer.ignore_errors,
            timeout=self.timeout,
            retries=self.retries,
            delay=self.delay,
            until=self.until,
            tags=tuple(dict.fromkeys(outer.tags + self.tags)),
            vars={**outer.vars, **self.vars},
            register=self.register,
            no_log=self.no_log if self.no_log is not None else outer.no_log,
            keywords=_inherited_keywords(outer.keywords, self.keywords),
        )


def _inherited_keywords(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Ansible keywords seen from inside a block: inner values win; environments add up, as in Ansible."""
    merged = {**outer, **inner}
    if isinstance(outer.get("environment"), dict) and isinstance(inner.get("environment"), dict):
        merged["environment"] = {**outer["environment"], **inner["environment"]}
    return merged


@dataclass(frozen=True)
class ModuleCall:
    """A leaf task: one module with its arguments."""

    name: str
    path: tuple[str, ...]  # names of the enclosing blocks, then this task's own name
    module: str  # the key the runbook used: echo, shell, file, template, or a module name
    args: Any  # a core module's typed arguments (EchoArguments...), else ModuleArguments
    options: TaskOptions
    location: Location
    index: int = 0  # position among the runbook's leaves, in runbook order
    scope: tuple[str, ...] = ()  # names of the includes this task sits in, outermost first
    target: ModuleInfo | None = None  # the resolved module
    handler: bool = False  # one of the runbook's `handlers:`: runs only when a task notifies it

    @property
    def task_id(self) -> str:
        return f"t{self.index}"


@dataclass(frozen=True)
class Block:
    name: str
    path: tuple[str, ...]
    children: tuple[Task, ...]
    options: TaskOptions
    location: Location


@dataclass(frozen=True)
class SerialBlock(Block):
    """Children run in order; a failure stops the rest of the list."""


@dataclass(frozen=True)
class ParallelBlock(Block):
    """Children start together; the block ends when all have ended."""


@dataclass(frozen=True)
class IncludeBlock:
    """`include: {runbook, vars}`: a nested runbook, run in place with its own variables."""

    name: str
    path: tuple[str, ...]
    children: tuple[Task, ...]  # one child: the nested runbook's top level
    options: TaskOptions  # the include task's own keywords; `vars` are the include's vars
    location: Location
    runbook: Runbook
    scope: tuple[str, ...] = ()  # the includes this include sits in

    @property
    def defaults(self) -> dict[str, Any]:
        """The nested runbook's own defaults: its `vars`, then var.yml and readable vars_files."""
        values = dict(self.runbook.vars)
        for vars_file in self.runbook.vars_files:
            values.update(vars_file.values or {})
        return values


Task = ModuleCall | SerialBlock | ParallelBlock | IncludeBlock


@dataclass(frozen=True)
class VarsFile:
    """var.yml or a `vars_files` entry: its values, or None when the whole file is Vault-encrypted."""

    path: Path
    values: dict[str, Any] | None


@dataclass(frozen=True)
class VarDoc:
    """A `vars_doc:` entry: what a variable means to whoever uses the runbook as a role."""

    name: str
    description: str
    required: bool = False
    type: str | None = None  # an argument-spec type; None: taken from the default value


@dataclass(frozen=True)
class GalaxyMeta:
    """The runbook's `galaxy:` key: who publishes its role and where it runs; None where it says nothing."""

    author: str | None = None
    license: str | None = None
    namespace: str | None = None
    min_ansible_version: str | None = None
    platforms: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, versions)


@dataclass(frozen=True)
class Runbook:
    name: str
    description: str
    source: Path  # the run.yml file
    hosts: str  # an Ansible host pattern, possibly with ${...}
    sudo: bool
    vars: dict[str, Any]
    vars_files: tuple[VarsFile, ...]  # var.yml beside the runbook first, then `vars_files`, in order
    flow: str
    facts: bool
    strategy: str
    rolling: int | str | None
    root: SerialBlock | ParallelBlock  # the top-level tasks, run per `flow`
    inventory: dict[str, Any] | None  # AutomateJS inventory.yml beside the runbook, in Ansible's YAML form
    vars_doc: tuple[VarDoc, ...] = ()
    galaxy: GalaxyMeta = GalaxyMeta()
    # What the author should know although the runbook is valid (its included runbooks' too), for the CLI.
    warnings: tuple[Diagnostic, ...] = ()
    handlers: tuple[ModuleCall, ...] = ()  # `handlers:`, run when notified, at the end of the play
    requirements: Path | None = None  # requirements.yml beside the runbook

    @property
    def directory(self) -> Path:
        return self.source.parent

    # The tree is walked once for each of these, and kept: compiling asks for them several times (a walk of
    # 30,000 tasks is some 30 ms). The model is frozen, so what is kept stays true.
    @cached_property
    def includes(self) -> tuple[IncludeBlock, ...]:
        """Every include in the tree, outermost first."""
        return tuple(iter_includes(self.root))

    @cached_property
    def _tree_leaves(self) -> tuple[ModuleCall, ...]:
        return tuple(iter_leaves(self.root))

    def leaves(self) -> list[ModuleCall]:
        """Every leaf in runbook order, then the handlers (this runbook's, then its included runbooks')."""
        books = {self.source.resolve(): self}
        for include in self.includes:  # a runbook included twice has one role, one handlers file
            books.setdefault(include.runbook.source.resolve(), include.runbook)
        return [*self._tree_leaves, *(h for book in books.values() for h in book.handlers)]


def iter_includes(task: Task):
    """Every include in a task tree, outermost first."""
    # A stack, not nested generators: each value of those passes through one generator per level.
    stack = list(reversed(getattr(task, "children", ())))
    while stack:
        child = stack.pop()
        if isinstance(child, IncludeBlock):
            yield child
        stack.extend(reversed(getattr(child, "children", ())))


def iter_leaves(task: Task):
    """Every leaf of a task tree, in runbook order."""
    stack = [task]
    while stack:
        task = stack.pop()
        if isinstance(task, ModuleCall):
            yield task
        else:
            stack.extend(reversed(task.children))
