"""The benchmark harness imports and reads its options; the benchmarks themselves run by hand."""

from __future__ import annotations

from bench import health
from bench.harness import SCENARIOS, parse_options
from bench.outbox_latency import measure


def test_bench_runs_every_scenario_by_default() -> None:
    _options, chosen, _output = parse_options([])
    assert chosen == list(SCENARIOS)
    assert {"signup", "delivery", "growth", "memory"} <= set(chosen)


def test_bench_only_adds_what_the_scenario_reads_in_run_order() -> None:
    _options, chosen, _output = parse_options(["--quick", "--only", "click"])
    assert chosen == ["baseline", "hash", "click"]


def test_the_health_bench_prints_its_table(capsys, monkeypatch) -> None:
    monkeypatch.delenv("BENCH_POSTGRES_URL", raising=False)
    monkeypatch.delenv("BENCH_MARIADB_URL", raising=False)

    health.main(["--rows", "21000", "--calls", "2"])

    table = capsys.readouterr().out
    assert "| SQLite " in table
    assert "steady (100 due)" in table
    assert "backlog (20,000 due)" in table


def test_outbox_latency_bench_measures_a_small_outbox(tmp_path) -> None:
    lines = measure(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", rows=200, repeats=1)

    assert [line.split(" | ")[2] for line in lines] == ["a day's mail", "all in the last hour"]
    assert all(line.startswith("| sqlite | 200 |") for line in lines), lines
