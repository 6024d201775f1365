"""My visits: the patient's and dependants' visits only; cancel, move, .ics."""

import datetime

import pytest
from django.urls import reverse

from scheduling.models import Appointment
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


def book(patient, doctor, service, *, actor, day=TUE, index=0):
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[index]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=actor,
    )


@pytest.fixture
def visit(clock, doctor, service, patient):
    return book(patient, doctor, service, actor=patient.user)


@pytest.fixture
def childs_visit(clock, doctor, service, patient, dependant):
    return book(dependant, doctor, service, actor=patient.user, index=1)


def visit_urls(appointment):
    return [
        reverse("scheduling:visit", args=[appointment.public_id]),
        reverse("scheduling:reschedule", args=[appointment.public_id]),
        reverse("scheduling:visit_ics", args=[appointment.public_id]),
    ]


def test_the_patient_sees_their_own_and_their_dependants_visits(
    as_user, visit, childs_visit, patient
):
    client = as_user(patient.user)
    page = client.get(reverse("scheduling:visits"))
    assert page.status_code == 200
    body = page.content.decode()
    assert str(visit.public_id) in body and str(childs_visit.public_id) in body
    for appointment in (visit, childs_visit):
        for url in visit_urls(appointment):
            assert client.get(url).status_code == 200, url


def test_another_patient_gets_404_for_every_page_and_action(as_user, visit, other_patient):
    stranger = as_user(other_patient.user)
    for url in visit_urls(visit):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(reverse("scheduling:cancel", args=[visit.public_id])).status_code == 404
    assert stranger.get(reverse("scheduling:visits")).status_code == 200
    assert str(visit.public_id) not in stranger.get(reverse("scheduling:visits")).content.decode()
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_staff_and_anonymous_do_not_reach_patient_visits(client, as_user, visit, registrar_a):
    for url in visit_urls(visit):
        assert client.get(url)["Location"].startswith("/accounts/login/")
        assert as_user(registrar_a).get(url).status_code == 404
    assert as_user(registrar_a).get(reverse("scheduling:visits"))["Location"] == reverse(
        "portal:home"
    )


def test_a_patient_cancels_with_a_reason(as_user, visit, patient):
    client = as_user(patient.user)
    answer = client.post(
        reverse("scheduling:cancel", args=[visit.public_id]), {"reason": "Уезжаю в командировку"}
    )
    assert answer.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.cancel_reason) == ("cancelled", "Уезжаю в командировку")
    again = client.post(reverse("scheduling:cancel", args=[visit.public_id]))
    assert again.status_code == 302  # a clear message, not an error page
    assert client.get(reverse("scheduling:reschedule", args=[visit.public_id])).status_code == 302


def test_a_patient_moves_a_visit_to_another_free_time(as_user, visit, doctor, service, patient):
    client = as_user(patient.user)
    new = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[3]
    url = reverse("scheduling:reschedule", args=[visit.public_id])
    assert 'name="slot"' in client.get(url).content.decode()
    # A tap on a time asks first; nothing moves until the patient confirms.
    asked = client.post(url, {"slot": new.slot_id})
    assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.content.decode()
    visit.refresh_from_db()
    assert visit.starts_at != new.start_utc
    answer = client.post(url, {"slot": new.slot_id, "confirm": "1"})
    assert answer["Location"] == reverse("scheduling:visit", args=[visit.public_id])
    visit.refresh_from_db()
    assert visit.starts_at == new.start_utc
    assert Appointment.objects.count() == 1


def test_a_time_of_another_service_or_a_forged_one_does_not_move_the_visit(
    as_user, visit, doctor, patient, clinic_a
):
    other_service = ServiceFactory()
    doctor.services.add(other_service)
    client = as_user(patient.user)
    alien = free_slots(service=other_service, doctor=doctor, start_date=TUE, end_date=TUE)[4]
    url = reverse("scheduling:reschedule", args=[visit.public_id])
    before = visit.starts_at
    for slot in (alien.slot_id, "forged"):
        assert client.post(url, {"slot": slot, "confirm": "1"}).status_code == 302
        visit.refresh_from_db()
        assert visit.starts_at == before


def test_the_visit_downloads_as_a_calendar_file(as_user, visit, patient):
    answer = as_user(patient.user).get(reverse("scheduling:visit_ics", args=[visit.public_id]))
    assert answer["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in answer.content


def test_the_visit_page_explains_the_deadlines_before_the_click(as_user, visit, patient, clock):
    page = as_user(patient.user).get(reverse("scheduling:visit", args=[visit.public_id]))
    body = page.content.decode()
    assert "24" in body  # the default free-cancellation window, in hours
    clock.advance(hours=24)  # now within 2 hours of the visit: no online move any more
    late = as_user(patient.user).get(reverse("scheduling:visit", args=[visit.public_id]))
    assert reverse("scheduling:reschedule", args=[visit.public_id]) not in late.content.decode()


@pytest.mark.parametrize(
    ("language", "home", "shown", "absent"),
    [
        ("en", None, "Tue 2 Mar 2027, 09:00 (Иркутск time, UTC+8)", "03/02"),
        ("ru", None, "Вт, 2 марта 2027, 09:00 (время: Иркутск, UTC+8)", "Mar"),
        ("en", "clinic_a", "Tue 2 Mar 2027, 09:00", "UTC+8"),
    ],
)
def test_visit_times_are_unambiguous_and_name_a_zone_that_is_not_the_readers(
    request, as_user, visit, patient, language, home, shown, absent
):
    """A patient at home in Irkutsk reads the time alone; anyone else reads Irkutsk's zone."""
    if home:
        patient.home_clinic = request.getfixturevalue(home)
        patient.save(update_fields=["home_clinic"])
    client = as_user(patient.user)
    client.cookies["django_language"] = language
    for url in (reverse("scheduling:visits"), reverse("scheduling:visit", args=[visit.public_id])):
        body = client.get(url).content.decode()
        assert shown in body, url
        assert absent not in body.split("<main", 1)[1], url


def test_moving_a_visit_at_a_clinic_that_books_by_request_offers_a_request(
    as_user, visit, patient, clinic_a
):
    from scheduling.choices import BookingMode
    from scheduling.models import BookingPolicy

    BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)
    url = reverse("scheduling:reschedule", args=[visit.public_id])
    page = as_user(patient.user).get(url, headers={"Accept-Language": "en"}).content.decode()
    assert "books visits by request" in page
    assert reverse("scheduling:request_new") in page and str(visit.doctor.public_id) in page
    assert 'name="slot"' not in page and "No free times" not in page
