#!/usr/bin/env bash
# The demo: SQLite, Celery eager, development keys generated once into .dev-secrets.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=1
unset DATABASE_URL REDIS_URL
PORT=${PORT:-8000}
# Links in messages and the seed_demo summary point at the port actually served.
export SITE_URL=${SITE_URL:-http://127.0.0.1:${PORT}}
if command -v msgfmt >/dev/null 2>&1 \
  && [ -n "$(find . -path ./.venv -prune -o -name '*.po' -print -quit)" ]; then
  # Fresh catalogues from the .po files; without gettext the committed .mo files are used.
  .venv/bin/python manage.py compilemessages -i ".venv" -v0 \
    || echo "warning: compilemessages failed; using the committed catalogues" >&2
fi
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
echo
echo "Medfront demo: ${SITE_URL}  (Ctrl+C stops it)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
