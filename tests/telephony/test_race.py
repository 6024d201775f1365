"""Concurrent deliveries on PostgreSQL: the events of one new call and the missed calls of one
number arrive at once; each call is created once, each number has one open callback, and no
request fails."""

import pytest
from django.db import connection
from django.test import Client

from telephony.models import Call, CallbackRequest
from tests.concurrency import run_in_threads
from tests.telephony.conftest import generic_event, post_generic

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
THREADS = 8


def test_events_of_one_new_call_at_once_create_it_once(generic_account, line_a):
    def work(index):
        client = Client(raise_request_exception=False)
        event = generic_event("c-1", "ringing", event_id=f"ring-{index}")
        return post_generic(client, generic_account, event).status_code

    assert run_in_threads(work, THREADS) == [200] * THREADS
    assert Call.objects.count() == 1


def test_missed_calls_of_one_number_at_once_share_one_callback(generic_account, line_a):
    for index in range(THREADS):
        post_generic(Client(), generic_account, generic_event(f"c-{index}", "ringing"))

    def work(index):
        client = Client(raise_request_exception=False)
        return post_generic(
            client, generic_account, generic_event(f"c-{index}", "ended")
        ).status_code

    assert run_in_threads(work, THREADS) == [200] * THREADS
    callback = CallbackRequest.objects.get()
    assert callback.missed_calls == THREADS
