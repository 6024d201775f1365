#!/usr/bin/env bash
# Benchmarks against a throw-away PostgreSQL database, served by gunicorn as in production.
# Results: bench/results/<UTC stamp>.json and latest.json. BENCH_SECONDS sets each phase's length;
# BENCH_DATABASE_URL the database (default postgresql://postgres@127.0.0.1:5432/medfront_bench,
# dropped and recreated). Exits non-zero only when a correctness invariant fails.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pgbench >/dev/null || { echo "make bench needs pgbench (Debian: postgresql-client)." >&2; exit 1; }
exec .venv/bin/python -m bench.run "$@"
