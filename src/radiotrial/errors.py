"""Error types for user mistakes.

Every error a user can cause raises a :class:`RadiotrialError` (or a subclass) whose message names
what is wrong and where: file, row, field and value where those exist. The CLI prints these without
a traceback and exits non-zero; anything else is a bug and shows its traceback under ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable


class RadiotrialError(Exception):
    """A problem with the user's input or request (not a bug in radiotrial)."""

    exit_code: int = 2


@dataclass(frozen=True)
class Problem:
    """One located problem in an input: where it is and why it is wrong.

    ``row`` is the 1-based data row as a spreadsheet user counts it (header = row 1, so the first
    data row is row 2) or ``None`` for file-level problems.
    """

    file: str | None
    row: int | None
    field: str | None
    value: Any
    reason: str

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"column '{self.field}'")
        where = ", ".join(parts)
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}{value}: {self.reason}" if where else f"{self.reason}{value}"


class InputError(RadiotrialError):
    """One or more located problems in user input; all of them are reported together."""

    def __init__(self, problems: Iterable[Problem] | Problem, summary: str | None = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.summary = summary
        head = summary or f"{len(self.problems)} problem(s) found"
        lines = [head] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
