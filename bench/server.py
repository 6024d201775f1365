"""gunicorn serving the benchmark: started on a free loopback port, stopped with its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import loadgen
from bench.config import ROOT, Config
from bench.console import log


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn in its own process group, so stopping it stops every worker it forked."""

    def __init__(
        self, cfg: Config, env: dict[str, str], log_path: Path, *, workers: int | None = None
    ):
        self.port = free_port()
        self.log_path = log_path
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers or cfg.workers}",
            # gthread keeps HTTP/1.1 connections alive (the sync worker closes each one); one
            # thread per worker keeps the sync worker's one-request-at-a-time model.
            "--worker-class=gthread",
            "--threads=1",
            "--keep-alive=30",
            "--backlog=512",
            "--timeout=60",
            "--graceful-timeout=5",
            "--log-level=warning",
            f"--error-logfile={log_path}",
        ]
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited ({self.process.returncode}); see {self.log_path}"
                )
            sample = loadgen.Connection(self.port, timeout=5).send(
                loadgen.Request("GET", "/bench/trivial")
            )
            if sample.status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within a minute")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_server(cfg: Config, env: dict[str, str], results: dict) -> Server:
    handle, log_name = tempfile.mkstemp(prefix="medfront-bench-gunicorn-", suffix=".log")
    os.close(handle)
    server = Server(cfg, env, Path(log_name))
    server.wait_ready()
    results["server"]["command"] = " ".join(
        part for part in server.command[2:] if not part.startswith("--error-logfile")
    )
    log(f"gunicorn up on 127.0.0.1:{server.port} with {cfg.workers} workers")
    return server
