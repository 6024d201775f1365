"""Django's connection pool on PostgreSQL: the development server, which starts a thread per
request, answers a burst of concurrent requests with no more connections than the pool allows
(without the pool every request thread opened its own, until PostgreSQL refused clients)."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
POOL_MAX_SIZE = 3
REQUESTS = 150
# The server's connections are told apart from every other one by their application name.
SERVER_NAME = "medfront-pool-test"
# Both read the database: /healthz runs SELECT 1, the public clinics list reads clinics.
PATHS = ["/healthz", "/api/v1/clinics/"]

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    # For the test database to exist; the server reads it from its own connections.
    pytest.mark.django_db,
]


def database_url(application_name: str) -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return (
        f"postgresql://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/"
        f"{quote(db['NAME'])}?application_name={application_name}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:  # a refused or reset connection is a failure too
        return repr(error)


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        if get_status(base + "/healthz") == 200:
            return
        time.sleep(0.2)
    pytest.fail("runserver did not answer within 20 s:\n" + log.read_text())


class ServerConnections(threading.Thread):
    """Samples pg_stat_activity on a connection of its own (autocommit, so every sample is a
    fresh snapshot): the most server connections open at once and every backend ever seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.backends: set[int] = set()
        self.done = threading.Event()
        self.conn = psycopg.connect(database_url("medfront-pool-monitor"), autocommit=True)

    def run(self):
        with self.conn:
            while not self.done.is_set():
                rows = self.conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVER_NAME]
                ).fetchall()
                self.peak = max(self.peak, len(rows))
                self.backends.update(pid for (pid,) in rows)
                time.sleep(0.005)


@pytest.fixture
def runserver(db, tmp_path):
    """`manage.py runserver --noreload` on the test database with a pool of POOL_MAX_SIZE."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(SERVER_NAME),
        "DATABASE_POOL_MIN_SIZE": "1",
        "DATABASE_POOL_MAX_SIZE": str(POOL_MAX_SIZE),
        "DATABASE_POOL_TIMEOUT": "20",
    }
    env.pop("REDIS_URL", None)  # /healthz then checks no broker: only the database matters
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                "--skip-checks",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, log)
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_runserver_answers_a_burst_within_the_pools_connections(runserver):
    monitor = ServerConnections()
    monitor.start()
    base, log = runserver
    urls = [base + PATHS[i % len(PATHS)] for i in range(REQUESTS)]
    try:
        with ThreadPoolExecutor(max_workers=REQUESTS) as clients:
            statuses = list(clients.map(get_status, urls))
    finally:
        monitor.done.set()
        monitor.join(timeout=5)
    failures = [status for status in statuses if status != 200]
    assert not failures, f"{failures[:5]}...\n{log.read_text()[-3000:]}"
    assert 1 <= monitor.peak <= POOL_MAX_SIZE
    # The pool lends the same few connections again and again rather than opening new ones.
    assert len(monitor.backends) <= POOL_MAX_SIZE
