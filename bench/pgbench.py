"""`pgbench -N` against the bench database: what PostgreSQL alone does on this machine."""

from __future__ import annotations

import re
import subprocess

from bench import scenario
from bench.config import Config

# pgbench runs with as many clients as the booking phase.
PGBENCH_CLIENTS = scenario.BOOKING_CLIENTS


def run_pgbench(cfg: Config, seconds: float) -> dict:
    init = subprocess.run(
        ["pgbench", "-i", "-s", "1", "-q", cfg.database_url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if init.returncode != 0:
        raise RuntimeError(f"pgbench -i failed: {init.stderr[-500:]}")
    command = [
        "pgbench",
        "-N",
        f"-c{PGBENCH_CLIENTS}",
        f"-j{max(1, cfg.cores)}",
        f"-T{int(seconds)}",
        cfg.database_url,
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    if run.returncode != 0:
        raise RuntimeError(f"pgbench failed: {run.stderr[-500:]}")
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    if not match:
        raise RuntimeError(f"no TPS in pgbench output: {run.stdout[-500:]}")
    return {
        "tps": round(float(match.group(1)), 1),
        "clients": PGBENCH_CLIENTS,
        "duration_s": int(seconds),
        "command": f"pgbench -N -c{PGBENCH_CLIENTS} -j{max(1, cfg.cores)} -T{int(seconds)}",
    }
