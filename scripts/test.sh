#!/usr/bin/env bash
# The whole suite. With DATABASE_URL unset it runs on SQLite; CI sets PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.test
.venv/bin/python manage.py check
.venv/bin/python manage.py makemigrations --check --dry-run
exec .venv/bin/pytest "$@"
