"""The offer link's page and the staff page of the cancellation waitlist."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from portal.choices import Role
from scheduling.choices import FreedSlotStatus, WaitlistOfferStatus
from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.waitlist_offers import waitlist_slot_freed, waitlist_slot_opened
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, make_staff
from tests.scheduling.conftest import T0, local

pytestmark = pytest.mark.django_db
DAY = datetime.date(2027, 3, 2)


def wait(patient, service, **kw):
    return WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        date_from=DAY,
        date_to=DAY + datetime.timedelta(days=3),
        created_at=T0,
        **kw,
    )


@pytest.fixture
def slot(clock, clinic_a, doctor, service, registrar_a, patient, dependant):
    """A freed Tuesday 09:00 offered to the signed-in patient, their child and a stranger."""
    wait(patient, service, boost=20)
    wait(dependant, service, boost=10)
    wait(PatientFactory(), service)
    visit = appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="phone",
        actor=registrar_a,
    )
    appointment_cancel(appointment=visit, actor=registrar_a)
    return waitlist_slot_freed(appointment_id=visit.pk)


def offer_of(slot, patient):
    return WaitlistOffer.objects.get(slot=slot, patient=patient)


def url(offer):
    return reverse("scheduling:waitlist_offer", args=[offer.token])


# --- The link ---------------------------------------------------------------------------------


def test_the_link_works_without_signing_in_and_the_first_yes_wins(slot, patient, dependant):
    mine, childs = offer_of(slot, patient), offer_of(slot, dependant)
    client = Client()
    page = client.get(url(mine))
    assert page.status_code == 200
    assert slot.doctor.full_name in page.content.decode()
    assert client.post(url(mine), {"answer": "yes"}).status_code == 302
    assert Appointment.objects.get(patient=patient, status="booked").channel == "waitlist"
    followed = client.post(url(childs), {"answer": "yes"}, follow=True)
    assert followed.status_code == 200
    childs.refresh_from_db()
    assert childs.status == WaitlistOfferStatus.TAKEN
    assert not Appointment.objects.filter(patient=dependant).exists()


def test_a_guardian_answers_for_their_child_and_may_decline(as_user, slot, patient, dependant):
    client = as_user(patient.user)
    childs = offer_of(slot, dependant)
    assert client.get(url(childs)).status_code == 200
    client.post(url(childs), {"answer": "no"})
    childs.refresh_from_db()
    assert childs.status == WaitlistOfferStatus.DECLINED


def test_a_bad_answer_changes_nothing(slot, patient):
    mine = offer_of(slot, patient)
    answer = Client().post(url(mine), {"answer": "maybe"})
    assert answer.status_code == 200
    mine.refresh_from_db()
    assert mine.status == WaitlistOfferStatus.OFFERED


def test_the_wrong_patient_and_staff_get_404_and_an_unknown_token_too(
    as_user, slot, patient, other_patient, registrar_a
):
    mine = offer_of(slot, patient)
    assert as_user(other_patient.user).get(url(mine)).status_code == 404
    assert as_user(other_patient.user).post(url(mine), {"answer": "yes"}).status_code == 404
    assert as_user(registrar_a).get(url(mine)).status_code == 404
    assert Client().get(reverse("scheduling:waitlist_offer", args=["nope"])).status_code == 404
    mine.refresh_from_db()
    assert mine.status == WaitlistOfferStatus.OFFERED


def test_a_closed_offer_says_so(clock, slot, patient):
    mine = offer_of(slot, patient)
    clock.advance(minutes=8)
    page = Client().get(url(mine))
    assert page.status_code == 200
    assert 'name="answer"' not in page.content.decode()


# --- The staff page -----------------------------------------------------------------------------


PAGE = reverse("scheduling:desk_waitlist")
LIVE = reverse("scheduling:desk_waitlist_live")


@pytest.mark.parametrize("persona", ["registrar_a", "head_nurse_a", "clinic_admin_a"])
def test_the_clinics_staff_see_freed_times_offers_and_the_leaderboard(
    request, as_user, slot, patient, persona
):
    client = as_user(request.getfixturevalue(persona))
    page = client.get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert patient.short_name in body and "+20" in body
    live = client.get(LIVE, {"clinic": str(slot.clinic.public_id)}, HTTP_HX_REQUEST="true")
    assert live.status_code == 200 and 'id="waitlist-live"' in live.content.decode()


@pytest.mark.parametrize("persona", ["doctor_a", "director", "marketer"])
def test_other_roles_are_refused(request, as_user, slot, persona):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(PAGE).status_code == 403
    assert client.get(LIVE).status_code == 403


def test_patients_are_refused_and_anonymous_sent_to_sign_in(as_user, slot, patient):
    assert as_user(patient.user).get(PAGE).status_code == 403
    assert Client().get(PAGE).status_code == 302


def test_staff_of_another_clinic_see_neither_its_page_nor_its_slots(
    as_user, slot, registrar_b, patient
):
    client = as_user(registrar_b)
    assert client.get(PAGE, {"clinic": str(slot.clinic.public_id)}).status_code == 404
    assert client.get(LIVE, {"clinic": str(slot.clinic.public_id)}).status_code == 404
    entry = patient.waitlist.get()
    assign = reverse("scheduling:desk_waitlist_assign", args=[slot.public_id])
    assert client.post(assign, {"entry": str(entry.public_id)}).status_code == 404
    priority = reverse("scheduling:desk_waitlist_priority", args=[entry.public_id])
    answer = client.post(
        priority, {"clinic": str(slot.clinic.public_id), "boost": "40", "urgent": "on"}
    )
    assert answer.status_code == 404
    entry.refresh_from_db()
    assert entry.boost == 20 and not entry.urgent


def test_network_staff_pick_a_clinic_first(as_user, network_admin, slot, clinic_b):
    client = as_user(network_admin)
    assert "?clinic=" in client.get(PAGE).content.decode()
    assert client.get(LIVE).status_code == 404
    assert client.get(PAGE, {"clinic": str(slot.clinic.public_id)}).status_code == 200


def test_staff_boost_and_flag_a_waiting_patient(as_user, registrar_a, slot, patient):
    entry = patient.waitlist.get()
    priority = reverse("scheduling:desk_waitlist_priority", args=[entry.public_id])
    client = as_user(registrar_a)
    clinic = str(slot.clinic.public_id)
    answer = client.post(priority, {"clinic": clinic, "boost": "35", "urgent": "on"})
    assert answer.status_code == 302 and clinic in answer["Location"]
    entry.refresh_from_db()
    assert entry.boost == 35 and entry.urgent
    for bad in ("41", "-1", "x"):
        client.post(priority, {"clinic": clinic, "boost": bad})
        entry.refresh_from_db()
        assert entry.boost == 35
    entry.status = "cancelled"
    entry.save()
    assert client.post(priority, {"clinic": clinic, "boost": "1"}).status_code == 404
    assert client.post(priority, {"boost": "1"}).status_code == 404


def test_staff_assign_a_freed_time_by_hand(as_user, registrar_a, slot):
    stranger_entry = WaitlistEntry.objects.filter(boost=0).get()
    assign = reverse("scheduling:desk_waitlist_assign", args=[slot.public_id])
    client = as_user(registrar_a)
    assert client.post(assign, {"entry": "not-a-uuid"}).status_code == 302
    answer = client.post(assign, {"entry": str(stranger_entry.public_id)})
    assert answer.status_code == 302
    slot.refresh_from_db()
    assert slot.status == FreedSlotStatus.FILLED and slot.manual
    assert slot.filled_by.patient == stranger_entry.patient
    # A second assignment is refused with a message, nothing changes.
    other = WaitlistEntry.objects.filter(boost=20).get()
    followed = client.post(assign, {"entry": str(other.public_id)}, follow=True)
    assert followed.status_code == 200
    assert Appointment.objects.filter(status="booked").count() == 1


def test_patients_cannot_assign_or_boost(as_user, patient, slot):
    client = as_user(patient.user)
    entry = patient.waitlist.get()
    assign = reverse("scheduling:desk_waitlist_assign", args=[slot.public_id])
    priority = reverse("scheduling:desk_waitlist_priority", args=[entry.public_id])
    assert client.post(assign, {"entry": str(entry.public_id)}).status_code == 403
    assert client.post(priority, {"boost": "40"}).status_code == 403


def test_a_doctor_of_the_clinic_cannot_assign(slot, as_user, clinic_a):
    doctor_user = make_staff(Role.DOCTOR, clinic_a)
    assign = reverse("scheduling:desk_waitlist_assign", args=[slot.public_id])
    assert as_user(doctor_user).post(assign, {"entry": "x"}).status_code == 403


def test_the_staff_page_shows_each_offers_messages_with_their_status(
    as_user, registrar_a, slot, patient
):
    from notifications.choices import DeliveryStatus, MessageStatus
    from notifications.models import OutboxMessage

    offer = offer_of(slot, patient)
    mine = OutboxMessage.objects.filter(idempotency_key__contains=str(offer.public_id))
    assert sorted(mine.values_list("channel", flat=True)) == ["email", "sms"]
    mine.filter(channel="sms").update(
        status=MessageStatus.SENT, delivery_status=DeliveryStatus.DELIVERED
    )
    mine.filter(channel="email").update(
        status=MessageStatus.FAILED, attempts=5, last_error="SMTPServerDisconnected"
    )
    live = as_user(registrar_a).get(LIVE, {"clinic": str(slot.clinic.public_id)})
    body = live.content.decode()
    row = body[body.index(patient.short_name) :].split("</tr>")[0]
    assert str(DeliveryStatus.DELIVERED.label) in row
    assert str(MessageStatus.FAILED.label) in row and "SMTPServerDisconnected" in row
    # The others' rows show their own messages, still waiting to go.
    assert body.count(str(MessageStatus.PENDING.label)) >= 2


def test_the_offer_messages_are_read_in_one_query(slot, clinic_a, django_assert_max_num_queries):
    from scheduling.selectors.waitlist_offers import live_slots

    [live] = live_slots(clinic=clinic_a, now=slot.freed_at)
    assert all(len(messages) == 2 for _offer, messages in live.rows)
    assert live_slots(clinic=clinic_a, now=slot.freed_at + datetime.timedelta(days=2)) == []


def test_the_leaderboard_shows_only_the_clinics_entries_with_where_they_wait(
    as_user, clock, registrar_a, slot, patient, dependant, clinic_a, clinic_b, service
):
    patient.waitlist.update(city=clinic_a.city)
    dependant.waitlist.update(clinic=clinic_a)
    # Network-wide, but for what only clinic B does, or with clinic B's doctor: not clinic A's.
    elsewhere = ServiceFactory(name="Только в Москве")
    doctor_b = DoctorFactory(services=[elsewhere, service], clinics=[clinic_b])
    stranger, other = PatientFactory(), PatientFactory()
    wait(stranger, elsewhere)
    wait(other, service, doctor=doctor_b)
    client = as_user(registrar_a)
    body = client.get(LIVE, {"clinic": str(clinic_a.public_id)}).content.decode()
    assert patient.short_name in body and dependant.short_name in body
    assert stranger.short_name not in body and other.short_name not in body
    assert f"{clinic_a.city}" in body and clinic_a.name in body
    # Nor may its staff boost them (the wrong clinic's entry).
    entry = stranger.waitlist.get()
    priority = reverse("scheduling:desk_waitlist_priority", args=[entry.public_id])
    answer = client.post(priority, {"clinic": str(clinic_a.public_id), "boost": "40"})
    assert answer.status_code == 404
    # Clinic B's staff see the entry that is theirs.
    body_b = as_user(make_staff(Role.REGISTRAR, clinic_b)).get(
        LIVE, {"clinic": str(clinic_b.public_id)}
    )
    assert stranger.short_name in body_b.content.decode()


def test_a_time_a_schedule_change_opened_shows_its_origin_not_a_cancelled_visit(
    as_user, clock, registrar_a, clinic_a, doctor, service
):
    waiting = PatientFactory()
    wait(waiting, service)
    opened = waitlist_slot_opened(
        clinic=clinic_a, doctor=doctor, service=service, starts_at=local(clinic_a, 2027, 3, 2, 10)
    )
    assert opened is not None
    body = as_user(registrar_a).get(LIVE, {"clinic": str(clinic_a.public_id)}).content.decode()
    assert "изменение расписания" in body
    assert "отменённый визит" not in body
    assert waiting.short_name in body
