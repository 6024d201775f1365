#!/usr/bin/env bash
# The whole suite. With DATABASE_URL unset it runs on SQLite; CI sets PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.test
# Without arguments (make test, CI) the suite runs on one xdist worker per core, each with its
# own test database and browser.
if [ "$#" -eq 0 ]; then
  set -- -n auto
fi
.venv/bin/python manage.py check
.venv/bin/python manage.py makemigrations --check --dry-run
if [ "${MEDFRONT_COVERAGE:-}" = "1" ]; then
  # Coverage gate (STYLE.md) for a full run: pytest's failure stops here with its own exit code
  # (set -e); then scripts/coverage_check.py holds the 100% files and the floor of the total.
  .venv/bin/pytest --cov --cov-report=term-missing "$@"
  exec .venv/bin/python scripts/coverage_check.py
fi
exec .venv/bin/pytest "$@"
