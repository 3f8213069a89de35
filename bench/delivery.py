"""The delivery benchmarks, run by hand (never part of ``make test``)::

    .venv/bin/python -m bench.delivery                  # both, as markdown tables
    .venv/bin/python -m bench.delivery --throughput-only --messages 2000
    .venv/bin/python -m bench.delivery --database-url postgresql+psycopg://127.0.0.1/bench

1. Delivery throughput (:mod:`bench.delivery_throughput`): one SMTP connection per batch
   versus one per message.
2. Sign-up latency under load (:mod:`bench.signup_latency`) with an SMTP server that holds
   each message 1 s versus 0 s, and a tutorial-style app that sends in the request.
"""

from __future__ import annotations

import argparse

from bench import signup_latency
from bench.delivery_throughput import throughput_table
from bench.mail_sink import machine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument(
        "--database-url", help="PostgreSQL/MariaDB URL for the sign-up runs (tables recreated)"
    )
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}\n")
    print(throughput_table(args.messages, args.rounds))
    if not args.throughput_only:
        print()
        print(signup_latency.latency_table(database=args.database_url))


if __name__ == "__main__":
    main()
