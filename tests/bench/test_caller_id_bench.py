"""The caller-ID benchmark's measuring loop, run in-process through Django's test client: every
sample ends with the caller's card in the registrar's panel, and nothing is refused."""

import time
from types import SimpleNamespace

import pytest
from django.test import Client

from bench import caller_id, loadgen
from telephony.models import Call
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_each_sample_ends_with_the_callers_card(clinic_a):
    patients = [PatientFactory() for _ in range(3)]
    network = SimpleNamespace(
        clinics=[clinic_a],
        patients=[SimpleNamespace(patient_public_id=p.public_id) for p in patients],
    )
    state = caller_id.seed(network, callers=3)
    client = Client()

    def send(request: loadgen.Request) -> loadgen.Sample:
        started = time.perf_counter()
        response = client.generic(
            request.method,
            request.path,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            headers={k: v for k, v in request.headers.items() if k != "Content-Type"},
        )
        return loadgen.Sample(
            response.status_code, time.perf_counter() - started, None, response.content
        )

    latencies, statuses = caller_id.measure(send, state, samples=4)
    assert len(latencies) == 4
    assert set(statuses) == {200}
    assert Call.objects.filter(state="ended").count() == 4
