"""Collects what Ansible warned about during a run (warnings and deprecations), each once, in the order said."""

from __future__ import annotations

import re
from typing import Any

# Ansible's own words for a part of the host pattern that matched nothing (inventory/manager.py).
_UNMATCHED = re.compile(r"Could not match supplied host pattern, ignoring: (.+)")
_HEADINGS = ("[WARNING]", "[DEPRECATION WARNING]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Ansible's advice that comes with every first deprecation: noise next to the deprecation itself.
_ADVICE = "Deprecation warnings can be disabled by setting"


class AnsibleWarnings:
    """Warnings come two ways: as events of their own (inventory and play-level warnings, which ansible-runner
    marks `warning`/`deprecated`, or `verbose` when said before the playbook started), and inside a task's result
    (`warnings`, `deprecations`), which a no_log task's censored result no longer carries."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.unmatched_patterns: list[str] = []

    def from_event(self, kind: str, stdout: str) -> None:
        text = _ANSI.sub("", stdout or "").replace("\r\n", "\n").strip()
        # A task's own warnings also open its result's output: those are read from the result instead.
        if kind in ("warning", "deprecated", "system_warning") or (kind == "verbose" and text.startswith(_HEADINGS)):
            lines = [line.rstrip() for line in text.splitlines() if _ADVICE not in line]
            self.add("\n".join(lines).strip())

    def from_result(self, res: dict[str, Any], task: str) -> None:
        for heading, key in (("[WARNING]", "warnings"), ("[DEPRECATION WARNING]", "deprecations")):
            for item in res.get(key) or ():
                message = item.get("msg") if isinstance(item, dict) else item
                if message:
                    self.add(f"{heading}: {message} (task: {task})")

    def add(self, text: str) -> None:
        if not text or text in self.texts:
            return
        self.texts.append(text)
        for pattern in (found.strip() for found in _UNMATCHED.findall(text)):
            if pattern not in self.unmatched_patterns:
                self.unmatched_patterns.append(pattern)
