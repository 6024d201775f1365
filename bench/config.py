"""The benchmark's configuration from the environment, and the environment it runs under."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/medfront_bench"
# The phases `BENCH_ONLY` may run alone.
PHASES_ALONE = ("engine", "desk", "crm", "dashboard", "assistant", "connector")


class Config:
    def __init__(self, env: dict[str, str]):
        self.seconds = float(env.get("BENCH_SECONDS", "12"))
        if not 1 <= self.seconds <= 600:
            raise SystemExit("BENCH_SECONDS must lie between 1 and 600.")
        self.database_url = env.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
        parts = urlsplit(self.database_url)
        self.database_name = parts.path.lstrip("/")
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("BENCH_DATABASE_URL must point at a local PostgreSQL (127.0.0.1).")
        if "bench" not in self.database_name or not re.fullmatch(r"\w+", self.database_name):
            # The runner drops this database: refuse anything that is not obviously ours.
            raise SystemExit("BENCH_DATABASE_URL must name a database containing 'bench'.")
        self.maintenance_url = urlunsplit(parts._replace(path="/postgres"))
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        self.workers = int(env.get("BENCH_WORKERS", str(2 * self.cores)))
        self.latency_clients = int(env.get("BENCH_LATENCY_CLIENTS", "1"))
        # Baseline and target take turns in this many slices of each phase.
        self.rounds = max(1, int(env.get("BENCH_ROUNDS", "4")))
        self.keep_db = env.get("BENCH_KEEP_DB", "") == "1"
        # One phase alone, for development ("engine": the booking engine's, the desk's and
        # the caller ID's phases with pgbench and the race; "desk": the day board alone;
        # "crm": the CRM and the director's dashboard; "dashboard": the dashboard without
        # leads; "assistant"; "connector"); its results never replace latest.json.
        self.only = env.get("BENCH_ONLY", "")
        if self.only not in ("", *PHASES_ALONE):
            raise SystemExit(f"BENCH_ONLY may only be one of {', '.join(PHASES_ALONE)}.")


def bench_environment(cfg: Config) -> dict[str, str]:
    """The environment of this process and of gunicorn: one throw-away secret set per run."""
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DEBUG")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_DATABASE_URL=cfg.database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY=secrets.token_hex(32),
        AUDIT_SEAL_KEY=secrets.token_hex(32),
        PYTHONPATH=str(ROOT),
    )
    return env
