"""The messaging phase's pieces that need no worker: the fake SMS.ru and its settings."""

import json
import urllib.parse
import urllib.request

import pytest

from bench import messaging


def test_the_fake_provider_answers_like_smsru_and_records_every_call():
    provider = messaging.FakeSmsRu()
    try:
        for _ in range(2):
            data = urllib.parse.urlencode(
                {"api_id": messaging.API_ID, "to": "79000000001", "msg": "x", "json": "1"}
            ).encode()
            with urllib.request.urlopen(provider.url + "/sms/send", data=data) as answer:  # noqa: S310
                body = json.loads(answer.read())
        assert body["sms"]["79000000001"]["status"] == "OK"
        assert [number for number, _at in provider.snapshot()] == ["79000000001"] * 2
    finally:
        provider.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BENCH_MESSAGES": "0"}, "BENCH_MESSAGES"),
        ({"BENCH_MESSAGING_WORKERS": "0"}, "BENCH_MESSAGING_WORKERS"),
        ({"BENCH_REDIS_URL": "redis://10.0.0.1:6379/0"}, "local Redis"),
    ],
)
def test_bad_settings_stop_the_phase(env, message):
    with pytest.raises(SystemExit, match=message):
        messaging.Settings(env)


def test_the_defaults():
    settings = messaging.Settings({})
    assert (settings.count, settings.workers) == (10_000, 2)
    assert settings.redis_url == messaging.DEFAULT_REDIS_URL
