"""How the benchmark phases talk to the terminal: one timestamped line a step."""

from __future__ import annotations

import time


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)
