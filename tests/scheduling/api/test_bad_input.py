"""Bad input never reaches a 500: a clear 4xx problem with a reason, and nothing changes."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.api.exceptions import PROBLEM_CONTENT_TYPE
from scheduling.models import Appointment, Quota
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
junk = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31", "-1", "", " ", "null", "1e9"]),
)


@FUZZ
@given(start=junk, end=junk, channel=junk, doctor_param=junk)
def test_slot_queries_with_junk_are_4xx_problems(
    api, service, doctor, start, end, channel, doctor_param
):
    response = api.get(
        "/api/v1/slots/",
        {
            "service": str(service.public_id),
            "start": start,
            "end": end,
            "channel": channel,
            "doctor": doctor_param,
        },
    )
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"start": "9999-12-30"},
        {"start": "9999-12-31", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "0001-01-02"},
    ],
)
def test_slot_queries_at_the_ends_of_the_calendar_are_400_not_500(api, service, query):
    response = api.get("/api/v1/slots/", {"service": str(service.public_id), **query})
    assert response.status_code == 400
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    assert set(response.json()["errors"]) == set(query)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(["service", "doctor", "start", "patient", "channel", "hold"]), json_values
    )
)
def test_booking_with_junk_is_a_4xx_problem_and_books_nothing(
    api_as, patient, service, doctor, body
):
    response = api_as(patient.user).post("/api/v1/appointments/", body, format="json")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    assert not Appointment.objects.exists()


def test_an_exhausted_quota_is_422(
    api_as, patient, other_patient, service, doctor, clinic_a, tomorrow_a
):
    Quota.objects.create(clinic=clinic_a, channel="online", limit=1)
    first = {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": at(clinic_a, tomorrow_a, 10).isoformat(),
    }
    assert (
        api_as(patient.user).post("/api/v1/appointments/", first, format="json").status_code == 201
    )
    second = {**first, "start": at(clinic_a, tomorrow_a, 11).isoformat()}
    response = api_as(other_patient.user).post("/api/v1/appointments/", second, format="json")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:medfront:problem:quota-exceeded"
    assert Appointment.objects.count() == 1


def test_a_far_future_time_is_422_outside_the_window(
    api_as, patient, service, doctor, clinic_a, tomorrow_a
):
    start = at(clinic_a, tomorrow_a + datetime.timedelta(days=200), 10)
    body = {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": start.isoformat(),
    }
    response = api_as(patient.user).post("/api/v1/appointments/", body, format="json")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:medfront:problem:outside-booking-window"


def test_an_unknown_appointment_action_is_a_problem_404(api_as, patient):
    response = api_as(patient.user).post(
        "/api/v1/appointments/00000000-0000-0000-0000-000000000000/cancel/", {}, format="json"
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
