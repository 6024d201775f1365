"""The iCalendar busy-time connector: feeds in several zones, floating and all-day times,
recurrences across a DST change, malformed feeds; bookings there become requests."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from scheduling.choices import AppointmentChannel, ConnectorKind, ConnectorOutcome
from scheduling.connectors.base import BadPayload
from scheduling.connectors.ics import busy_periods
from scheduling.errors import SlotTaken
from scheduling.models import Appointment, ClinicConnector, ConnectorCall
from scheduling.selectors.connector_slots import connector_free_slots
from scheduling.services.connectors import connector_book
from tests.factories import make_weekly_schedule

UTC = datetime.UTC
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
LOWER = datetime.datetime(2027, 3, 1, tzinfo=UTC)
UPPER = datetime.datetime(2027, 4, 30, tzinfo=UTC)


def feed(*events: str, extra: str = "") -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", extra, *events])
    return (body + "\r\nEND:VCALENDAR\r\n").replace("\r\n\r\n", "\r\n").encode()


def event(uid: str, *lines: str) -> str:
    return "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270101T000000Z", *lines, "END:VEVENT"]
    )


def periods(payload: bytes, tz=MOSCOW, lower=LOWER, upper=UPPER):
    return busy_periods(payload, tz=tz, lower=lower, upper=upper)


def at(tz, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz).astimezone(UTC)


def test_events_in_other_zones_are_read_as_instants():
    payload = feed(
        event("utc", "DTSTART:20270302T060000Z", "DTEND:20270302T070000Z"),
        event(
            "ny",
            "DTSTART;TZID=America/New_York:20270302T080000",
            "DTEND;TZID=America/New_York:20270302T083000",
        ),
        event("berlin", "DTSTART;TZID=Europe/Berlin:20270303T090000", "DURATION:PT45M"),
    )
    assert periods(payload) == [
        (at(UTC, 2027, 3, 2, 6), at(UTC, 2027, 3, 2, 7)),
        (at(zoneinfo.ZoneInfo("America/New_York"), 2027, 3, 2, 8), at(UTC, 2027, 3, 2, 13, 30)),
        (at(BERLIN, 2027, 3, 3, 9), at(BERLIN, 2027, 3, 3, 9, 45)),
    ]


def test_floating_and_all_day_times_are_the_clinics_wall_clock():
    payload = feed(
        event("floating", "DTSTART:20270302T100000", "DTEND:20270302T110000"),
        event("day", "DTSTART;VALUE=DATE:20270305", "DTEND;VALUE=DATE:20270306"),
    )
    assert periods(payload, tz=MOSCOW) == [
        (at(MOSCOW, 2027, 3, 2, 10), at(MOSCOW, 2027, 3, 2, 11)),
        (at(MOSCOW, 2027, 3, 5, 0), at(MOSCOW, 2027, 3, 6, 0)),
    ]


def test_transparent_and_cancelled_events_are_not_busy_and_overlaps_merge():
    payload = feed(
        event("free", "DTSTART:20270302T060000Z", "DTEND:20270302T070000Z", "TRANSP:TRANSPARENT"),
        event("off", "DTSTART:20270302T080000Z", "DTEND:20270302T090000Z", "STATUS:CANCELLED"),
        event("a", "DTSTART:20270303T060000Z", "DTEND:20270303T070000Z"),
        event("b", "DTSTART:20270303T063000Z", "DTEND:20270303T080000Z"),
    )
    assert periods(payload) == [(at(UTC, 2027, 3, 3, 6), at(UTC, 2027, 3, 3, 8))]


def test_a_weekly_event_keeps_its_wall_clock_time_across_a_dst_change():
    """Berlin moves its clocks on 28 March 2027: the 09:00 meeting stays at 09:00 local."""
    payload = feed(
        event(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20270322T090000",
            "DTEND;TZID=Europe/Berlin:20270322T100000",
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "EXDATE;TZID=Europe/Berlin:20270405T090000",
        )
    )
    found = periods(payload, tz=BERLIN)
    assert found == [
        (at(BERLIN, 2027, 3, 22, 9), at(BERLIN, 2027, 3, 22, 10)),
        (at(BERLIN, 2027, 3, 29, 9), at(BERLIN, 2027, 3, 29, 10)),
    ]
    assert found[0][0].hour == 8 and found[1][0].hour == 7  # UTC+1, then UTC+2


def test_free_busy_periods_count():
    payload = feed(
        "\r\n".join(
            [
                "BEGIN:VFREEBUSY",
                "UID:fb",
                "DTSTAMP:20270101T000000Z",
                "FREEBUSY;FBTYPE=BUSY:20270302T060000Z/PT1H",
                "FREEBUSY;FBTYPE=FREE:20270302T100000Z/PT1H",
                "END:VFREEBUSY",
            ]
        )
    )
    assert periods(payload) == [(at(UTC, 2027, 3, 2, 6), at(UTC, 2027, 3, 2, 7))]


def test_only_the_range_asked_is_returned():
    payload = feed(event("old", "DTSTART:20260302T060000Z", "DTEND:20260302T070000Z"))
    assert periods(payload) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"<html>Service unavailable</html>",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
        feed(event("no-start", "DTEND:20270302T070000Z")),
        feed(event("bad-date", "DTSTART:2027-13-45", "DTEND:20270302T070000Z")),
        feed(event("backwards", "DTSTART:20270302T080000Z", "DTEND:20270302T070000Z")),
        feed(event("bad-rule", "DTSTART:20270302T080000Z", "RRULE:FREQ=SOMETIMES")),
    ],
    ids=["empty", "html", "vcard", "no-start", "bad-date", "backwards", "bad-rule"],
)
def test_malformed_feeds_are_refused(payload):
    with pytest.raises(BadPayload):
        periods(payload)


# --- The connector, over a real socket --------------------------------------------------------


@pytest.fixture
def ics_connector(connector_clinic, local_doctor, upstream):
    make_weekly_schedule(local_doctor, connector_clinic)  # 09:00–13:00, Moscow
    upstream.content_type = "text/calendar"
    return ClinicConnector.objects.create(
        clinic=connector_clinic, kind=ConnectorKind.ICS, base_url=f"{upstream.url}/busy.ics"
    )


def tomorrow(clinic) -> datetime.date:
    return timezone.now().astimezone(clinic.tz).date() + datetime.timedelta(days=1)


def test_free_slots_are_working_hours_minus_busy_time(
    ics_connector, upstream, connector_clinic, local_doctor, upstream_service
):
    day = tomorrow(connector_clinic)
    busy_from = datetime.datetime.combine(day, datetime.time(10), tzinfo=MOSCOW)
    stamp = "%Y%m%dT%H%M%SZ"
    upstream.body = feed(
        event(
            "busy",
            f"DTSTART:{busy_from.astimezone(UTC).strftime(stamp)}",
            f"DTEND:{(busy_from + datetime.timedelta(hours=1)).astimezone(UTC).strftime(stamp)}",
        )
    )
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=MOSCOW)
    result = connector_free_slots(
        clinic=connector_clinic,
        service=upstream_service,
        doctor=local_doctor,
        start=start,
        end=start + datetime.timedelta(days=1),
    )
    times = [s.start.astimezone(MOSCOW).time() for s in result.slots]
    assert times == [
        datetime.time(9),
        datetime.time(9, 30),
        datetime.time(11),
        datetime.time(11, 30),
        datetime.time(12),
        datetime.time(12, 30),
    ]


def test_a_booking_there_becomes_a_request_for_staff(
    ics_connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    upstream.body = feed()
    start = datetime.datetime.combine(tomorrow(connector_clinic), datetime.time(9), tzinfo=MOSCOW)
    result = connector_book(
        patient=patient,
        clinic=connector_clinic,
        doctor=local_doctor,
        service=upstream_service,
        start=start,
        external_id="",
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    assert result.appointment is None and result.request is not None
    assert not Appointment.objects.exists()
    outcomes = set(ConnectorCall.objects.values_list("outcome", flat=True))
    assert outcomes == {ConnectorOutcome.OK, ConnectorOutcome.REFUSED}


def test_a_time_busy_in_the_calendar_meanwhile_is_a_clear_conflict(
    ics_connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    start = datetime.datetime.combine(tomorrow(connector_clinic), datetime.time(9), tzinfo=MOSCOW)
    stamp = "%Y%m%dT%H%M%SZ"
    upstream.body = feed(
        event(
            "taken",
            f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
            f"DTEND:{(start + datetime.timedelta(hours=2)).astimezone(UTC).strftime(stamp)}",
        )
    )
    with pytest.raises(SlotTaken):
        connector_book(
            patient=patient,
            clinic=connector_clinic,
            doctor=local_doctor,
            service=upstream_service,
            start=start,
            external_id="",
            channel=AppointmentChannel.ONLINE,
            actor=patient.user,
        )
