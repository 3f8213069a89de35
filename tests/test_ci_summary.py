"""CI's closing line, ``ci: N passed, M failed``, added up from saved outputs of its steps."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "ci"
SCRIPT = ROOT / ".ci" / "summary.py"

_spec = importlib.util.spec_from_file_location("ci_summary", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
summary = importlib.util.module_from_spec(_spec)
# dataclasses look their module up in sys.modules while the class is built.
sys.modules["ci_summary"] = summary
_spec.loader.exec_module(summary)


def _sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize(
    ("line", "passed", "failed"),
    [
        ("=========== 1160 passed, 3 skipped in 512.07s (0:08:32) ===========", 1160, 0),
        ("1041 passed, 15 skipped in 455.10s (0:07:35)", 1041, 0),
        ("= 2 failed, 1040 passed, 14 skipped, 2 warnings, 1 error in 601.33s =", 1040, 3),
        ("==== 3 errors in 0.20s ====", 0, 3),
        ("no tests ran in 0.01s", None, None),
        ("tests/test_cli.py ....... [ 50%]", None, None),
    ],
)
def test_pytest_closing_line(line, passed, failed):
    counts = summary.pytest_counts(line)

    if passed is None:
        assert counts is None
    else:
        assert counts == summary.Counts(passed, failed)


@pytest.mark.parametrize(
    ("line", "passed", "failed"),
    [
        ("  583 generated, 583 passed", 583, 0),
        ("  583 generated, 7 found 3 unique failures, 2 errored, 4 skipped", 570, 9),
        ("  20 generated, 20 passed, 3 skipped", 20, 0),
        ("  No test cases were generated", None, None),
    ],
)
def test_schemathesis_test_cases_line(line, passed, failed):
    counts = summary.schemathesis_counts(line)

    if passed is None:
        assert counts is None
    else:
        assert counts == summary.Counts(passed, failed)


@pytest.mark.parametrize(
    ("sample", "status", "passed", "failed"),
    [
        ("sqlite_passed.log", 0, 1160, 0),
        ("mariadb_quiet.log", 0, 1041, 0),
        # The line captured from a failing test's output is not the run's.
        ("postgresql_failed.log", 2, 1040, 3),
        ("schemathesis_passed.log", 0, 583, 0),
        ("schemathesis_failed.log", 1, 570, 9),
        # A failing step with no test count (lint, nothing collected) is one failure.
        ("lint_failed.log", 2, 0, 1),
        ("no_tests.log", 2, 0, 1),
    ],
)
def test_step_counts_from_saved_outputs(sample, status, passed, failed):
    assert summary.step_counts(_sample(sample), status) == summary.Counts(passed, failed)


def test_colours_are_ignored():
    output = "\x1b[32m\x1b[1m12 passed\x1b[0m\x1b[32m in 0.51s\x1b[0m\n"

    assert summary.step_counts(output, 0) == summary.Counts(12, 0)


def test_passing_step_without_tests_adds_nothing():
    assert summary.step_counts("ci: PostgreSQL accepts connections\n", 0) == summary.Counts()


def _keep(folder: Path, index: int, sample: str, status: int) -> None:
    shutil.copy(SAMPLES / sample, folder / f"{index:03d}.log")
    (folder / f"{index:03d}.status").write_text(f"{status}\n")


def test_closing_line_of_a_green_run(tmp_path):
    (tmp_path / "000.log").write_text("ci: starting PostgreSQL\n")
    (tmp_path / "000.status").write_text("0\n")
    _keep(tmp_path, 1, "sqlite_passed.log", 0)
    _keep(tmp_path, 2, "mariadb_quiet.log", 0)
    _keep(tmp_path, 3, "schemathesis_passed.log", 0)

    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True
    )

    assert done.stdout == "ci: 2784 passed, 0 failed\n"


def test_closing_line_of_a_red_run(tmp_path):
    _keep(tmp_path, 0, "lint_failed.log", 2)
    _keep(tmp_path, 1, "postgresql_failed.log", 2)
    _keep(tmp_path, 2, "schemathesis_failed.log", 1)

    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True
    )

    assert done.stdout == "ci: 1610 passed, 13 failed\n"


def test_ci_run_ends_with_the_summary():
    run = (ROOT / ".ci" / "run").read_text()

    assert 'python3 .ci/summary.py "$logs"' in run
    assert 'echo "$status" >"$kept.status"' in run
