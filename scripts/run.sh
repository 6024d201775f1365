#!/usr/bin/env bash
# The demo: SQLite, Celery eager, development keys generated once into .dev-secrets.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=1
unset DATABASE_URL REDIS_URL
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
echo
echo "Medfront demo: http://127.0.0.1:${PORT}  (Ctrl+C stops it)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
