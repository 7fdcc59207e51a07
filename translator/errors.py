"""The one exception root and the located diagnostics every stage reports with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """Where a runbook node starts: 1-based line and column, as editors count."""

    path: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    message: str
    severity: str = "error"
    source_line: str = ""  # the text of the line the location points into, when known
    width: int = 1  # how many characters of that line the problem spans

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"

    def render(self) -> str:
        """The diagnostic, then its source line with a caret under the offending text, as rustc shows it."""
        if not self.source_line:
            return str(self)
        number = str(self.location.line)
        gutter = " " * len(number)
        caret = " " * (self.location.col - 1) + "^" * max(1, self.width)
        return f"{self}\n{gutter} |\n{number} | {self.source_line}\n{gutter} | {caret}"


class Rb2AnsibleError(Exception):
    """Root of every error rb2ansible raises on purpose; the CLI turns these into messages."""

    exit_code = 3


class RunbookInvalid(Rb2AnsibleError):
    """The runbook (or a file it names) is wrong; nothing was executed."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: d.location)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(Rb2AnsibleError):
    """A command-line option or argument the user gave cannot be used."""

    exit_code = 2


class AnsibleRefused(Rb2AnsibleError):
    """Ansible would not start the run (inventory, vault password, options); its own words follow."""

    exit_code = 2


class ExecutionError(Rb2AnsibleError):
    """Ansible could not be started or ended in a way rb2ansible did not expect."""

    exit_code = 3


class Diagnostics:
    """Collects diagnostics so a stage can report every problem at once, not just the first.

    Errors stop the command; warnings (something accepted that the author should know about, such as
    an AutomateJS habit rb2ansible reads differently) are carried on the model for the CLI to print.
    """

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def error(self, location: Location, message: str, *, source_line: str = "", width: int = 1) -> None:
        self.items.append(Diagnostic(location, message, source_line=source_line, width=width))

    def warning(self, location: Location, message: str, *, source_line: str = "", width: int = 1) -> None:
        warning = Diagnostic(location, message, "warning", source_line, width)
        if warning not in self.warnings:  # a value read twice is still one warning
            self.warnings.append(warning)

    def raise_if_any(self) -> None:
        if self.items:
            raise RunbookInvalid(self.items)
