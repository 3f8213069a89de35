#!/usr/bin/env python3
"""Print CI's closing line, ``ci: N passed, M failed``, from the logs of the steps that ran.

``.ci/run`` keeps each step's output in ``DIR/NNN.log`` and its exit status in
``DIR/NNN.status``; ``.ci/summary.py DIR`` adds up what the suites said. Why a line of its
own: the last step (schemathesis) ends without a test count, so CI's output read as if
nothing had been tested.

Counted: each pytest run's closing line ("2 failed, 1096 passed, 1 error in 140s"; errors
count as failures) and schemathesis's "Test cases" line ("583 generated, 583 passed", or
"583 generated, 7 found 3 unique failures, 2 errored"). A step that failed without a failure
in its counts (lint, types, a server that did not start) counts as one failure, so a red CI
never reads "0 failed". Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
#: pytest's closing line, with or without its ``=`` rule ("-q" drops it).
_PYTEST = re.compile(r"^=*\s*(?P<counts>\d+ \w+(?:, \d+ \w+)*) in [\d.]+s\b")
#: schemathesis's count of test cases, in its summary.
_SCHEMATHESIS = re.compile(r"^\s*(?P<generated>\d+) generated(?P<rest>(?:, .*)?)$")
_FAILED_WORDS = ("failed", "error", "errors", "errored")


@dataclass(frozen=True)
class Counts:
    """Tests passed and failed (errors included) in one step or in all of them."""

    passed: int = 0
    failed: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.passed + other.passed, self.failed + other.failed)


def _words(text: str) -> dict[str, int]:
    """Return ``{"passed": 3, "failed": 1}`` for "3 passed, 1 failed"."""
    return {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", text)}


def pytest_counts(line: str) -> Counts | None:
    """Return the counts of pytest's closing ``line``, or None if it is not one."""
    match = _PYTEST.match(line)
    if match is None:
        return None
    words = _words(match["counts"])
    return Counts(words.get("passed", 0), sum(words.get(w, 0) for w in _FAILED_WORDS))


def schemathesis_counts(line: str) -> Counts | None:
    """Return the counts of schemathesis's "N generated, ..." ``line``, or None."""
    match = _SCHEMATHESIS.match(line)
    if match is None:
        return None
    generated = int(match["generated"])
    rest = match["rest"]
    # "7 found 3 unique failures": 7 test cases failed, 3 distinct ways.
    found = re.search(r"(\d+) found", rest)
    failed = (int(found[1]) if found else 0) + _words(rest).get("errored", 0)
    skipped = _words(rest).get("skipped", 0)
    # "N passed" appears only when nothing failed; otherwise what is left passed.
    passed = _words(rest).get("passed", generated - failed - skipped)
    return Counts(passed, failed)


def step_counts(output: str, status: int) -> Counts:
    """Add up the suites in one step's ``output``; count a failed step without failures."""
    lines = [_COLOUR.sub("", line) for line in output.splitlines()]
    # A step runs one pytest: its last closing line is the run's own (a failing test's
    # captured output may hold another).
    pytest = [c for c in map(pytest_counts, lines) if c is not None][-1:]
    schemathesis = [c for c in map(schemathesis_counts, lines) if c is not None][-1:]
    total = sum([*pytest, *schemathesis], Counts())
    if status != 0 and total.failed == 0:
        total += Counts(failed=1)
    return total


def summarize(folder: Path) -> Counts:
    """Add up every step kept in ``folder`` (``NNN.log`` with ``NNN.status``)."""
    total = Counts()
    for log in sorted(folder.glob("*.log")):
        status_file = log.with_suffix(".status")
        status = int(status_file.read_text().strip() or 1) if status_file.exists() else 0
        total += step_counts(log.read_text(errors="replace"), status)
    return total


def summary_line(counts: Counts) -> str:
    return f"ci: {counts.passed} passed, {counts.failed} failed"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: .ci/summary.py DIR (the steps' NNN.log and NNN.status files)")
        return 2
    print(summary_line(summarize(Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
