"""The assistant's bench phase at a tiny size: the messages, the network it seeds when run
alone, the queries of one reply, the accuracy, and the measured phase against a live server
(no timing is asserted)."""

from types import SimpleNamespace

import pytest

from bench import assistant, config, report, scenario
from portal.throttling import AssistantAnonymousThrottle
from scheduling.models import Service
from tests.crm.assistant.dialogues import DIALOGUES


def test_the_messages_are_the_first_turns_of_the_dialogues_with_their_language():
    messages = assistant.first_messages()
    assert [m["text"] for m in messages] == [d[0]["text"] for d in DIALOGUES]
    assert {m["language"] for m in messages} == {"ru", "en"}
    first = messages[0]
    assert first == {"text": "Здравствуйте, хочу записаться к кардиологу", "language": "ru"}
    # Every client cycles through all messages, starting at its own place.
    replies = assistant.replies(messages, 3)
    sent = [next(replies) for _ in range(len(messages))]
    assert sent[0].path == assistant.PATH and sent[0].method == "POST"
    assert sorted(r.body for r in sent) == sorted(
        assistant.loadgen.json_request("POST", assistant.PATH, m).body for m in messages
    )


@pytest.mark.django_db(transaction=True)
def test_the_assistant_phase_seeds_counts_queries_and_measures(live_server, monkeypatch):
    # The load generator is one anonymous address; `bench.settings` raises this rate likewise.
    monkeypatch.setattr(AssistantAnonymousThrottle, "rate", "1000000/minute", raising=False)
    results: dict = {"phases": {}}
    assistant.ensure_network()
    services = Service.objects.count()
    assert services > 0
    assistant.ensure_network()  # the engine phases' network is used as it is
    assert Service.objects.count() == services

    messages = assistant.first_messages()
    assistant.count_queries(messages, results)
    assert results["assistant"]["messages"] == len(messages)
    assert results["assistant_reply_queries"] >= results["assistant"]["queries_median"] > 0
    assistant.accuracy(results)
    assert results["assistant_intent_accuracy"] >= 0.9

    port = int(live_server.url.rsplit(":", 1)[1])
    cfg = SimpleNamespace(seconds=0.4, rounds=2, latency_clients=1)
    assistant.drive(
        cfg,
        port,
        results,
        messages,
        alternate=scenario.alternate,
        phase=scenario.record_phase,
        trivial_path="/healthz",
    )
    reply = results["phases"]["assistant_reply"]
    assert reply["requests"] > 0 and reply["ok"] == reply["requests"]
    assistant.ratios(results)
    assert results["assistant_reply_p95_ratio"] > 0


def test_the_ratio_is_left_out_when_a_phase_is_missing():
    results: dict = {"phases": {"assistant_reply": {"p95_ms": 12.0}}}
    assistant.ratios(results)
    assert results["assistant_reply_p95_ratio"] is None


def test_the_phase_runs_alone_and_is_judged_by_its_targets():
    assert config.Config({"BENCH_ONLY": "assistant"}).only == "assistant"
    with pytest.raises(SystemExit):
        config.Config({"BENCH_ONLY": "nothing"})
    assert report.invariant_failures({}, only="assistant") == []
    verdicts = report.target_verdicts(
        {"assistant_reply_p95_ratio": 51.0, "assistant_intent_accuracy": 0.95}
    )
    assert verdicts["assistant_reply_p95_ratio"] == "missed"
    assert verdicts["assistant_intent_accuracy"] == "met"
    table = report.format_table(
        {"only": "assistant", "assistant_reply_p95_ratio": 20.0, "phases": {}}
    )
    assert "| assistant_reply_p95_ratio | 20" in table and "funnel" not in table
