"""Benchmark settings: the production profile (DEBUG off, pooled connections) plus a tiny
bench-only app with the baseline endpoints. Used only by `bench.run` and the gunicorn it starts.

The database always comes from `BENCH_DATABASE_URL`, never from `DATABASE_URL`, because the
runner drops and recreates it. Secrets come from the environment as in production; `bench.run`
generates a throw-away set per run and hands the same set to every gunicorn worker.
"""

import os
import warnings

BENCH_DATABASE_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/medfront_bench"

os.environ["DEBUG"] = "0"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", BENCH_DATABASE_URL_DEFAULT)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Plain HTTP on the loopback: no redirect to HTTPS, no secure-only cookies, no HSTS.
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SESSION_COOKIE_SECURE"] = "0"
os.environ["CSRF_COOKIE_SECURE"] = "0"
os.environ["SECURE_HSTS_SECONDS"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")
# One load generator reads slots anonymously from one address, faster than a person: the rate
# stays on (its cache round trip is part of the measured cost) but far above the load.
os.environ.setdefault("THROTTLE_SLOTS_ANON", "1000000/minute")
os.environ.setdefault("THROTTLE_FHIR_ANON", "1000000/minute")
# The assistant phase sends every message anonymously from one address (30/minute otherwise).
os.environ.setdefault("THROTTLE_ASSISTANT_ANON", "1000000/minute")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]
ROOT_URLCONF = "bench.urls"

# Production publishes Celery tasks to Redis for a worker. The benchmark runs no worker, so
# tasks are published to an in-process memory broker that nobody consumes: the request pays
# for the publish, as in production, and never for the sending itself.
CELERY_BROKER_URL = os.environ.get("BENCH_CELERY_BROKER_URL", "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Nothing is delivered from a benchmark: the development sender is what it should use.
NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER = True
# Nobody signs in during a benchmark (tokens are seeded), so no lockout needs a shared store.
ALLOW_UNSHARED_CACHE = True
# No password is ever checked on a timed path; fast hashing keeps seeding quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
# The benchmark serves no static files; WhiteNoise need not warn that none were collected.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
# Pages link static files; production collects them into a hashed manifest first
# (`collectstatic`). The benchmark serves no static file, so it names them plainly.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
