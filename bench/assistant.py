"""The assistant's phase: one anonymous reply of the embedded engine against the trivial view.

The messages are the first turns of the scripted dialogues (`tests/crm/assistant/dialogues.py`):
questions, booking intents with dates, prices, directions, in Russian and English. Each is sent
without a cookie, so each starts a conversation as a new visitor's first message does; a
booking intent with a date searches the bench network's free times. The anonymous throttle is
raised for the benchmark in `bench.settings` (`THROTTLE_ASSISTANT_ANON`).

Also recorded: the queries of one reply (the most any of the messages needs, in-process) and
`assistant_intent_accuracy`, the scripted turns' intent accuracy without a database.
"""

from __future__ import annotations

import itertools

from bench import loadgen, report
from bench.console import log

PATH = "/api/v1/assistant/messages/"


def first_messages() -> list[dict[str, str]]:
    """The first turn of every scripted dialogue, with its language ("ru" or "en")."""
    from tests.crm.assistant.dialogues import DIALOGUES

    messages = []
    for dialogue in DIALOGUES:
        text = dialogue[0]["text"]
        cyrillic = any("а" <= char.lower() <= "я" or char.lower() == "ё" for char in text)
        messages.append({"text": text, "language": "ru" if cyrillic else "en"})
    return messages


def ensure_network() -> None:
    """The bench network when this phase runs alone (`BENCH_ONLY=assistant`): the catalogue
    and two clinics with schedules, so a booking intent searches real free times."""
    from django.utils import timezone

    from bench import seed
    from scheduling.models import Service

    if Service.objects.exists():
        return
    network = seed.Network()
    seed.seed_catalogue(network)
    seed.seed_clinics(network, first=0, count=2, today=timezone.localdate())


def count_queries(messages: list[dict[str, str]], results: dict) -> None:
    """The most queries one reply needs, over every message, served in-process (warm)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # Warm: the vocabulary is read once and then served from the cache.
    Client().post(PATH, messages[0], content_type="application/json")
    counts = []
    for message in messages:
        client = Client()  # no cookie: a new visitor each time
        with CaptureQueriesContext(connection) as queries:
            response = client.post(PATH, message, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"the assistant answered {response.status_code} in-process")
        counts.append(len(queries))
    results["assistant"] = {
        "messages": len(messages),
        "queries_max": max(counts),
        "queries_median": sorted(counts)[len(counts) // 2],
    }
    results["assistant_reply_queries"] = max(counts)


def accuracy(results: dict) -> None:
    from tests.crm.assistant.accuracy import intent_accuracy

    results["assistant_intent_accuracy"] = round(intent_accuracy(), 3)


def replies(messages: list[dict[str, str]], offset: int):
    """Client `offset`'s requests: the messages in turn, each client starting elsewhere."""
    requests = [loadgen.json_request("POST", PATH, message) for message in messages]
    start = offset % len(requests)
    return itertools.cycle(requests[start:] + requests[:start])


def drive(
    cfg,
    port: int,
    results: dict,
    messages: list[dict[str, str]],
    *,
    alternate,
    phase,
    cpu_meter=None,
    trivial_path: str = "/bench/trivial",
) -> None:
    """Replies against the trivial view, taking turns (`scenario.alternate`)."""
    probe = loadgen.Connection(port).send(replies(messages, 0).__next__(), keep_body=True)
    if probe.status != 200:
        raise RuntimeError(f"the assistant answered {probe.status} over HTTP")
    trivial = loadgen.Request("GET", trivial_path)
    log(f"trivial view vs the assistant's reply ({len(messages)} messages), {cfg.rounds} rounds")
    measured = alternate(
        port,
        seconds=cfg.seconds,
        rounds=cfg.rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial_assistant": (cfg.latency_clients, lambda i: loadgen.repeat(trivial)),
            "assistant_reply": (cfg.latency_clients, lambda i: replies(messages, i * 7)),
        },
    )
    for name in ("trivial_assistant", "assistant_reply"):
        phase(results, name, measured[name], rounds=cfg.rounds)


def ratios(results: dict) -> None:
    phases = results.get("phases", {})
    results["assistant_reply_p95_ratio"] = report.ratio(
        phases.get("assistant_reply", {}).get("p95_ms"),
        phases.get("trivial_assistant", {}).get("p95_ms"),
        1,
    )


def run(cfg, port: int, results: dict, *, alternate, phase, cpu_meter=None) -> None:
    """The whole phase: data, query count, accuracy, load, ratio."""
    ensure_network()
    messages = first_messages()
    count_queries(messages, results)
    accuracy(results)
    drive(cfg, port, results, messages, alternate=alternate, phase=phase, cpu_meter=cpu_meter)
    ratios(results)
