"""The mutation score table: what counts as killed, and that only the doc explains a survivor."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from tests import mutation_score


def write_meta(results: Path, module: str, codes: dict[str, int | None]) -> None:
    meta = results / "flask_mailproof" / f"{module}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


@pytest.mark.parametrize(
    ("code", "seen"),
    [
        (None, "not run"),
        (1, "killed"),  # a test failed
        (-24, "killed"),  # timed out
        (37, "killed"),  # the type checker refused it
        (0, "survived"),
        (33, "no tests"),
        (2, "other"),  # pytest was interrupted: not counted as killed
    ],
)
def test_exit_codes_are_read_as_mutmut_means_them(code, seen):
    assert mutation_score.outcome(code) == seen


def test_the_equivalent_list_is_the_docs_table_and_nothing_else(tmp_path):
    doc = tmp_path / "testing.md"
    doc.write_text(
        "# Testing\n\n"
        "A mention of `flask_mailproof.tokens.x__mutmut_9` outside the table explains nothing.\n\n"
        "## Equivalent mutants\n\n"
        "| mutant | why no test can tell it apart |\n"
        "| --- | --- |\n"
        "| `flask_mailproof.tokens.x__mutmut_1` | the unique index refuses it too |\n\n"
        "## Next section\n\n"
        "| `flask_mailproof.tokens.x__mutmut_2` | not in the section |\n",
        encoding="utf-8",
    )
    assert mutation_score.equivalent_mutants(doc) == {
        "flask_mailproof.tokens.x__mutmut_1": "the unique index refuses it too"
    }


def test_the_score_leaves_out_equivalent_and_unrun_mutants(tmp_path):
    results = tmp_path / "src"
    write_meta(
        results,
        "flows/login.py",
        {
            "a__mutmut_1": 1,
            "a__mutmut_2": 1,
            "a__mutmut_3": 0,
            "a__mutmut_4": 0,
            "a__mutmut_5": None,
        },
    )
    found = mutation_score.collect(results)
    assert list(found) == ["flows/login.py"]

    mutants = found["flows/login.py"]
    row = mutation_score._row("flows/login.py", len(mutants), Counter(mutants.values()), 1)
    # 5 mutants, 1 not run, 1 equivalent: 2 killed of the 3 judged.
    assert row.split()[-1] == "66.7%"
    assert row.split()[1:6] == ["5", "1", "2", "2", "1"]


def test_an_equivalent_mutant_not_run_yet_is_left_out_once():
    mutants = {"a__mutmut_1": "killed", "a__mutmut_2": "survived", "a__mutmut_3": "not run"}
    listed = {"a__mutmut_2": "why", "a__mutmut_3": "why"}

    assert mutation_score.judged_equivalent(mutants, listed) == 1
