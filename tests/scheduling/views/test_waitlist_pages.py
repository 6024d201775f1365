"""The cancellation waitlist: joining where a day or doctor is full, leaving it."""

import datetime
import re

import pytest
from django.urls import reverse

from scheduling.choices import WaitlistStatus
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed, PolicyViolation
from scheduling.models import WaitlistEntry
from scheduling.services.waitlist import MAX_ACTIVE_ENTRIES, waitlist_join, waitlist_leave
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)


def join_url(service, doctor=None):
    url = f"{reverse('scheduling:waitlist_join')}?service={service.public_id}"
    return url + (f"&doctor={doctor.public_id}" if doctor else "")


def form(person, first=MON, last=MON + datetime.timedelta(days=6)):
    return {"patient": str(person.public_id), "date_from": first, "date_to": last}


def test_a_patient_joins_for_a_dependant_and_sees_the_entry(
    clock, as_user, patient, dependant, doctor, service
):
    client = as_user(patient.user)
    assert client.get(join_url(service, doctor)).status_code == 200
    answer = client.post(join_url(service, doctor), form(dependant))
    assert answer["Location"] == reverse("scheduling:visits")
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.doctor, entry.status) == (dependant, doctor, "active")
    assert service.name in client.get(reverse("scheduling:visits")).content.decode()


def test_a_patient_waits_for_any_service_of_the_specialty_in_a_city(
    clock, as_user, patient, service, clinic_a
):
    client = as_user(patient.user)
    shown = client.get(join_url(service)).content.decode()
    assert service.specialty.name in shown and clinic_a.city in shown
    data = form(patient) | {"breadth": "specialty", "city": clinic_a.city}
    assert client.post(join_url(service), data).status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.service, entry.specialty, entry.city) == (None, service.specialty, clinic_a.city)
    assert service.specialty.name in client.get(reverse("scheduling:visits")).content.decode()
    refused = client.post(join_url(service), form(patient) | {"city": "Atlantis"})
    assert refused.status_code == 200 and WaitlistEntry.objects.count() == 1


def test_the_form_offers_the_next_two_weeks_in_the_date_fields_browsers_read(
    clock, as_user, patient, doctor, service
):
    body = as_user(patient.user).get(join_url(service, doctor)).content.decode()
    # A date input shows only an ISO value: a localised one leaves the field blank.
    assert re.search(r'type="date" name="date_from" value="\d{4}-\d{2}-\d{2}"', body)
    assert re.search(r'type="date" name="date_to" value="\d{4}-\d{2}-\d{2}"', body)
    assert "Откуда" not in body and "Кому" not in body


def test_nobody_else_can_be_put_on_the_list_or_take_an_entry_off(
    clock, as_user, patient, other_patient, service
):
    client = as_user(patient.user)
    assert client.post(join_url(service), form(other_patient)).status_code == 200  # form error
    assert not WaitlistEntry.objects.exists()
    client.post(join_url(service), form(patient))
    entry = WaitlistEntry.objects.get()
    leave = reverse("scheduling:waitlist_leave", args=[entry.public_id])
    assert as_user(other_patient.user).post(leave).status_code == 404
    assert client.post(leave).status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.CANCELLED


def test_dates_are_checked_with_clear_messages(clock, as_user, patient, service):
    client = as_user(patient.user)
    past = client.post(join_url(service), form(patient, MON - datetime.timedelta(days=1)))
    backwards = client.post(join_url(service), form(patient, MON, MON - datetime.timedelta(1)))
    too_long = client.post(join_url(service), form(patient, MON, MON + datetime.timedelta(90)))
    for answer in (past, backwards, too_long):
        assert answer.status_code == 200
        assert answer.context["form"].errors
    assert not WaitlistEntry.objects.exists()


def test_an_unknown_service_is_404_and_staff_and_anonymous_do_not_join(
    clock, client, as_user, registrar_a, service
):
    assert client.get(join_url(service))["Location"].startswith("/accounts/login/")
    assert as_user(registrar_a).get(join_url(service))["Location"] == reverse("portal:home")
    assert client.get(reverse("scheduling:waitlist_join")).status_code == 302


def test_unknown_service_for_a_patient_is_404(clock, as_user, patient):
    assert as_user(patient.user).get(reverse("scheduling:waitlist_join")).status_code == 404


# --- The services ----------------------------------------------------------------------------


def test_joining_again_widens_the_entry_instead_of_duplicating_it(clock, patient, service):
    first = waitlist_join(
        patient=patient, service=service, date_from=MON, date_to=MON, actor=patient.user
    )
    again = waitlist_join(
        patient=patient,
        service=service,
        date_from=MON,
        date_to=MON + datetime.timedelta(days=3),
        actor=patient.user,
    )
    assert again.pk == first.pk and again.date_to == MON + datetime.timedelta(days=3)
    from portal.models import AuditEvent

    trail = AuditEvent.objects.filter(object_id=str(first.public_id)).order_by("pk")
    assert list(trail.values_list("action", flat=True)) == ["create", "update"]


def test_a_patient_waits_for_a_limited_number_of_services(clock, patient):
    for _ in range(MAX_ACTIVE_ENTRIES):
        waitlist_join(
            patient=patient,
            service=ServiceFactory(),
            date_from=MON,
            date_to=MON,
            actor=patient.user,
        )
    with pytest.raises(PolicyViolation):
        waitlist_join(
            patient=patient, service=ServiceFactory(), date_from=MON, date_to=MON, actor=None
        )


def test_the_services_refuse_bad_dates_strangers_and_closed_entries(
    clock, patient, other_patient, service
):
    with pytest.raises(InvalidInput):
        waitlist_join(
            patient=patient,
            service=service,
            date_from=MON,
            date_to=MON + datetime.timedelta(days=90),
            actor=patient.user,
        )
    with pytest.raises(InvalidInput):
        waitlist_join(
            patient=patient,
            service=service,
            date_from=MON - datetime.timedelta(days=1),
            date_to=MON,
            actor=patient.user,
        )
    with pytest.raises(NotAllowed):
        waitlist_join(
            patient=other_patient, service=service, date_from=MON, date_to=MON, actor=patient.user
        )
    entry = waitlist_join(
        patient=patient, service=service, date_from=MON, date_to=MON, actor=patient.user
    )
    waitlist_leave(entry=entry, actor=patient.user)
    with pytest.raises(InvalidTransition):
        waitlist_leave(entry=entry, actor=patient.user)


# --- Waiting for an earlier time while holding a visit ------------------------------------------


def test_an_upcoming_visit_offers_to_wait_for_an_earlier_time(
    clock, as_user, patient, dependant, doctor, service, clinic_a
):
    from scheduling.services.booking import appointment_book
    from tests.scheduling.conftest import local

    visit = appointment_book(
        patient=dependant,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 9, 10),
        channel="online",
        actor=patient.user,
    )
    body = as_user(patient.user).get(reverse("scheduling:visit", args=[visit.public_id])).content
    link = (
        f"{join_url(service, doctor)}&amp;patient={dependant.public_id}&amp;before=2027-03-09"
    ).replace("&doctor", "&amp;doctor")
    assert link in body.decode()


def test_the_link_from_a_visit_picks_its_patient_and_waits_until_the_day_before(
    clock, as_user, patient, dependant, other_patient, doctor, service
):
    client = as_user(patient.user)
    base = join_url(service, doctor)
    body = client.get(f"{base}&patient={dependant.public_id}&before=2027-03-09").content.decode()
    assert re.search(rf'value="{dependant.public_id}"[^>]*checked', body)
    assert 'name="date_to" value="2027-03-08"' in body
    # Someone the user does not act for, a malformed or a too-near date: the usual start.
    for query in (f"&patient={other_patient.public_id}&before=2027-13-45", "&before=2027-03-02"):
        body = client.get(base + query).content.decode()
        assert re.search(rf'value="{patient.public_id}"[^>]*checked', body)
        assert 'name="date_to" value="2027-03-14"' in body


def test_joining_by_specialty_or_city_and_refusing_what_does_not_make_sense(
    clock, patient, service, clinic_a
):
    wide = waitlist_join(
        patient=patient,
        specialty=service.specialty,
        city=f" {clinic_a.city} ",
        date_from=MON,
        date_to=MON,
        actor=patient.user,
    )
    assert (wide.service, wide.specialty, wide.city) == (None, service.specialty, clinic_a.city)
    assert service.specialty.name in wide.wanted
    # A clinic named makes the city moot.
    there = waitlist_join(
        patient=patient,
        service=service,
        clinic=clinic_a,
        city="Nowhere",
        date_from=MON,
        date_to=MON,
        actor=patient.user,
    )
    assert there.city == "" and there.wanted == service.name
    for bad in (
        {"service": service, "specialty": service.specialty},
        {},
        {"service": service, "city": "Nowhere"},
    ):
        with pytest.raises(InvalidInput):
            waitlist_join(patient=patient, date_from=MON, date_to=MON, actor=patient.user, **bad)
