"""Which of a runbook's tasks `--tags` / `--skip-tags` leave out: Ansible runs them on no host and says nothing."""

from __future__ import annotations

from dataclasses import dataclass

from .model import ModuleCall, Task

# Ansible's name for the tags of a task that has none (playbook/taggable.py).
UNTAGGED = frozenset({"untagged"})


@dataclass(frozen=True)
class TagSelection:
    only: frozenset[str] = frozenset({"all"})  # ansible-playbook's default for --tags
    skip: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, tags: str | None, skip_tags: str | None) -> TagSelection:
        return cls(_split(tags) or frozenset({"all"}), _split(skip_tags))

    def describe(self) -> str:
        """The options that made the selection, in ansible-playbook's words."""
        parts = [] if self.only == {"all"} else [f"--tags {','.join(sorted(self.only))}"]
        parts += [f"--skip-tags {','.join(sorted(self.skip))}"] if self.skip else []
        return " ".join(parts)

    def leaves_left_out(self, root: Task) -> dict[str, str]:
        """leaf id -> why the leaf is not selected, for every leaf of the tree that is not."""
        left_out: dict[str, str] = {}
        for leaf, tags in _leaf_tags(root, ()):
            if not self.selects(set(tags) or UNTAGGED):
                left_out[leaf.task_id] = f"not selected by {self.describe()}"
        return left_out

    def selects(self, tags: set[str] | frozenset[str]) -> bool:
        """Ansible's rule (Taggable.evaluate_tags), restated: its own needs a task object inside a play. A tag
        written as ${...} is only known on the host; such a task is assumed selected."""
        if any("${" in tag or "{{" in tag for tag in tags):
            return True
        selected = ("always" in tags or ("all" in self.only and "never" not in tags)
                    or not tags.isdisjoint(self.only)
                    or ("tagged" in self.only and tags != UNTAGGED and "never" not in tags))
        if selected and self.skip:
            if "all" in self.skip:
                selected = "always" in tags and "always" not in self.skip
            elif not tags.isdisjoint(self.skip) or ("tagged" in self.skip and tags != UNTAGGED):
                selected = False
        return selected


def _leaf_tags(task: Task, outer: tuple[str, ...]):
    """Each leaf with the tags it carries in the play: its own and those of every block and include around it,
    as the emitted play gives them (tags on a block or an import reach every task inside)."""
    tags = (*outer, *task.options.tags)
    if isinstance(task, ModuleCall):
        yield task, tags
        return
    for child in task.children:
        yield from _leaf_tags(child, tags)


def _split(value: str | None) -> frozenset[str]:
    return frozenset(tag.strip() for tag in (value or "").split(",") if tag.strip())
