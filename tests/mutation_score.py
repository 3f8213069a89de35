"""Print the mutation score of the last ``make mutate`` run, module by module.

mutmut keeps each module's results in ``mutants/<path>.meta``. A mutant counts as killed when
a test failed (or timed out, or the type checker refused it); the score is the share of
killed mutants among those that are not equivalent. Equivalent mutants, which no test can
tell from the original, are the ones listed with their reason in docs/testing.md's table
"Equivalent mutants": the doc is the one list, so a mutant cannot be waved away unexplained.

Run by ``make mutate`` after mutmut, or alone: ``.venv/bin/python tests/mutation_score.py``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "mutants" / "src"
DOC = ROOT / "docs" / "testing.md"

#: mutmut's exit codes (mutmut/stats.py), reduced to what the score needs.
KILLED_CODES = {1, 3, 24, -24, 152, 255, 36, 37, -9, -11}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}


def equivalent_mutants(doc: Path = DOC) -> dict[str, str]:
    """Return mutant name -> reason from the doc's "Equivalent mutants" table."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    section = text.partition("## Equivalent mutants")[2].partition("\n## ")[0]
    rows = re.findall(r"^\| `([\w.]+__mutmut_\d+)` \| (.+?) \|$", section, flags=re.M)
    return dict(rows)


def outcome(code: int | None) -> str:
    if code is None:
        return "not run"
    if code in KILLED_CODES:
        return "killed"
    if code in SURVIVED_CODES:
        return "survived"
    if code in NO_TESTS_CODES:
        return "no tests"
    return "other"


def collect(results: Path = RESULTS) -> dict[str, dict[str, str]]:
    """Return module path -> mutant name -> outcome, for every module mutmut mutated."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(results.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = meta.relative_to(results / "flask_mailproof").as_posix().removesuffix(".meta")
        found[module] = {name: outcome(code) for name, code in codes.items()}
    return found


def main() -> int:
    found = collect()
    if not found:
        print("no results: run `make mutate` first", file=sys.stderr)
        return 1
    equivalent = equivalent_mutants()
    header = (
        f"{'module':<26} {'mutants':>7} {'not run':>7} {'killed':>6} {'survived':>8} "
        f"{'equiv.':>6} {'score':>6}"
    )
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    unexplained: list[str] = []
    for module, mutants in found.items():
        counts = Counter(mutants.values())
        equiv = judged_equivalent(mutants, equivalent)
        unexplained += [
            name
            for name, seen in mutants.items()
            if seen not in ("killed", "not run") and name not in equivalent
        ]
        totals.update(counts)
        totals["equivalent"] += equiv
        print(_row(module, len(mutants), counts, equiv))
    print("-" * len(header))
    print(_row("all", sum(len(m) for m in found.values()), totals, totals["equivalent"]))
    if unexplained:
        print(f"\n{len(unexplained)} run, not killed, and not explained in docs/testing.md:")
        for name in unexplained:
            module = next(m for m, mutants in found.items() if name in mutants)
            print(f"  {found[module][name]:<9} {name}")
    return 0


def judged_equivalent(mutants: dict[str, str], equivalent: dict[str, str]) -> int:
    """Count the mutants that ran, were not killed, and are explained as equivalent.

    One listed but not run yet is counted once, as not run: the score leaves it out either way.
    """
    return sum(
        1
        for name, seen in mutants.items()
        if seen not in ("killed", "not run") and name in equivalent
    )


def _row(module: str, mutants: int, counts: Counter[str], equivalent: int) -> str:
    judged = mutants - equivalent - counts["not run"]
    score = f"{100 * counts['killed'] / judged:5.1f}%" if judged else "   - "
    return (
        f"{module:<26} {mutants:>7} {counts['not run']:>7} {counts['killed']:>6} "
        f"{counts['survived'] + counts['no tests'] + counts['other']:>8} {equivalent:>6} {score:>6}"
    )


if __name__ == "__main__":
    sys.exit(main())
