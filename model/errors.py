"""Errors that the command line turns into exit codes (docs/cli.md#exit-codes).

An `InputError` is anything wrong with what the planner wrote: a scenario key, a dataset cell,
an id that does not exist. Its message names the file and the key or row, and the command line
prints it as one line with exit code 2 — never a traceback.
"""

from __future__ import annotations

from pathlib import Path

EXIT_SOLVED = 0
EXIT_ERROR = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3


class InputError(ValueError):
    """Invalid input; the message names the file and the key, row or column."""

    def __init__(self, file: str | Path | None, where: str | None, problem: str):
        self.file = str(file) if file is not None else None
        self.where = where
        self.problem = problem
        parts = [p for p in (self.file, where) if p]
        super().__init__(": ".join(parts + [problem]))
