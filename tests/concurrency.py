"""Run one piece of work in many threads at once, each on its own database connection."""

import threading

from django.db import connections


def run_in_threads(work, count):
    """`work(index)` in `count` threads released together; each result or exception, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:  # reported to the test, not swallowed
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
