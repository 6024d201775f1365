"""iCal: one visit as .ics, the caller's secret feed (show, rotate), valid RFC 5545 with the
clinic's VTIMEZONE, and no diagnoses or (for doctors) patient names in events."""

import pytest
from icalendar import Calendar

from scheduling.models import CalendarFeedToken
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
FEED = "/api/v1/calendar-feed/"


@pytest.fixture
def visits(api_as, patient, dependant, registrar_a, service, doctor, clinic_a, tomorrow_a):
    """Tomorrow 10:00 for the patient and 11:00 for their child, both in clinic A."""
    made = []
    for who, hour in ((patient, 10), (dependant, 11)):
        body = {
            "service": str(service.public_id),
            "doctor": str(doctor.public_id),
            "start": at(clinic_a, tomorrow_a, hour).isoformat(),
            "patient": str(who.public_id),
        }
        response = api_as(registrar_a).post("/api/v1/appointments/", body, format="json")
        assert response.status_code == 201
        made.append(response.json())
    return made


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_one_visit_as_ics_carries_the_clinic_time_zone(api_as, patient, visits, tomorrow_a):
    cal = parse(api_as(patient.user).get(f"/api/v1/appointments/{visits[0]['id']}/ics"))
    zones = [tz["TZID"] for tz in cal.walk("VTIMEZONE")]
    assert zones == ["Asia/Irkutsk"]
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Asia/Irkutsk"
    assert event.decoded("DTSTART").isoformat() == f"{tomorrow_a}T10:00:00+08:00"
    assert str(event["UID"]).startswith(visits[0]["id"])
    assert "Come 10 minutes early." in str(event["DESCRIPTION"])
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"]


def test_one_visit_ics_is_scoped_like_the_visit(api, api_as, other_patient, registrar_b, visits):
    url = f"/api/v1/appointments/{visits[0]['id']}/ics"
    assert api_as(other_patient.user).get(url).status_code == 404
    assert api_as(registrar_b).get(url).status_code == 404
    assert api.get(url).status_code == 401


def test_a_patient_gets_a_feed_of_their_familys_visits(api, api_as, patient, visits):
    url = api_as(patient.user).get(FEED).json()["url"]
    assert url.startswith("http://testserver/api/v1/calendar-feed/")
    assert api_as(patient.user).get(FEED).json()["url"] == url  # stable until rotated
    cal = parse(api.get(url))  # calendar apps cannot sign in: the address is the key
    events = cal.walk("VEVENT")
    assert len(events) == 2
    assert {e["DTSTART"].params["TZID"] for e in events} == {"Asia/Irkutsk"}
    summaries = [str(e["SUMMARY"]) for e in events]
    assert any("(Миша)" in s for s in summaries)  # the child's visit names the child


def test_rotation_kills_the_old_address(api, api_as, patient, visits):
    client = api_as(patient.user)
    old = client.get(FEED).json()["url"]
    new = client.post(FEED).json()["url"]
    assert new != old
    assert api.get(old).status_code == 404
    assert api.get(old)["Content-Type"].startswith("application/problem+json")
    assert parse(api.get(new))


def test_secrets_are_stored_hashed(api_as, patient):
    url = api_as(patient.user).get(FEED).json()["url"]
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    row = CalendarFeedToken.objects.get(user=patient.user)
    assert row.token_hash != secret
    assert secret not in row.token_hash


def test_a_doctor_gets_their_day_without_patient_names(api, api_as, doctor_a, visits, patient):
    url = api_as(doctor_a).get(FEED).json()["url"]
    cal = parse(api.get(url))
    events = cal.walk("VEVENT")
    assert len(events) == 2
    text = cal.to_ical().decode()
    assert patient.last_name not in text
    assert "Миша" not in text


def test_staff_without_visits_and_anonymous_have_no_feed(api, api_as, registrar_a):
    assert api_as(registrar_a).get(FEED).status_code == 403
    assert api.get(FEED).status_code == 401
    assert api.get("/api/v1/calendar-feed/not-a-secret.ics").status_code == 404


def test_cancelled_visits_stay_in_the_feed_as_cancelled(api, api_as, patient, visits):
    api_as(patient.user).post(f"/api/v1/appointments/{visits[0]['id']}/cancel/", {}, format="json")
    cal = parse(api.get(api_as(patient.user).get(FEED).json()["url"]))
    statuses = {str(e["UID"]).split("@")[0]: str(e["STATUS"]) for e in cal.walk("VEVENT")}
    assert statuses[visits[0]["id"]] == "CANCELLED"
    assert statuses[visits[1]["id"]] == "TENTATIVE"
