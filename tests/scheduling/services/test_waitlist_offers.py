"""Offering freed slots to the waitlist (seed 003): ranking, batches, first YES wins."""

from __future__ import annotations

import datetime

import pytest

from notifications.models import OutboxMessage
from portal.choices import AuditAction, ConsentPurpose, Role
from portal.models import AuditEvent, Consent, ConsentDocument
from scheduling.choices import FreedSlotStatus, WaitlistOfferStatus, WaitlistStatus
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed, SlotTaken
from scheduling.models import (
    Appointment,
    BookingPolicy,
    FreedSlot,
    Hold,
    Occupancy,
    WaitlistEntry,
    WaitlistOffer,
)
from scheduling.selectors.waitlist_offers import waitlist_score
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.waitlist_offers import (
    freed_slot_assign,
    waitlist_entry_prioritise,
    waitlist_offer_answer,
    waitlist_offer_reply,
    waitlist_offers_advance,
    waitlist_slot_freed,
)
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, make_staff
from tests.scheduling.conftest import T0, local

OS = WaitlistOfferStatus
F = FreedSlotStatus
DAY = datetime.date(2027, 3, 2)


@pytest.fixture
def registrar(clinic_a):
    return make_staff(Role.REGISTRAR, clinic_a)


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


def book(patient, doctor, service, start, registrar, channel="phone"):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=channel,
        actor=registrar,
    )


def free(doctor, service, start, registrar, source=None):
    """Book `start` for someone and cancel it; returns the cancelled visit."""
    visit = book(source or PatientFactory(), doctor, service, start, registrar)
    return appointment_cancel(appointment=visit, actor=registrar)


def wait(patient, service, *, days_ago=0, doctor=None, clinic=None, **kw):
    return WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        doctor=doctor,
        clinic=clinic,
        date_from=DAY - datetime.timedelta(days=1),
        date_to=DAY + datetime.timedelta(days=5),
        created_at=T0 - datetime.timedelta(days=days_ago),
        **kw,
    )


def offers_of(slot, status=None):
    qs = WaitlistOffer.objects.filter(slot=slot).order_by("-score", "pk")
    return list(qs if status is None else qs.filter(status=status))


@pytest.fixture
def five(clock, service):
    """Five waiting patients, ranked 0 (best) to 4."""
    patients = [PatientFactory() for _ in range(5)]
    for rank, patient in enumerate(patients):
        wait(patient, service, days_ago=30 * (5 - rank))
    return patients


# --- The score ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_to_visit", "points"), [(None, 0), (10, 0), (30, 5), (89, 5), (90, 10), (200, 20)]
)
def test_the_score_counts_the_current_visit_by_how_far_it_is(days_to_visit, points):
    current = T0 + datetime.timedelta(days=days_to_visit) if days_to_visit else None
    score = waitlist_score(urgent=False, boost=0, current_start=current, joined_at=T0, now=T0)
    assert score.total == points


def test_the_score_adds_urgency_boost_and_seniority_capped_at_ten():
    score = waitlist_score(
        urgent=True,
        boost=40,
        current_start=None,
        joined_at=T0 - datetime.timedelta(days=400),
        now=T0,
    )
    assert score.total == 30 + 40 + 10
    assert len(score.parts) == 3
    assert (
        waitlist_score(
            urgent=False,
            boost=0,
            current_start=None,
            joined_at=T0 - datetime.timedelta(days=59),
            now=T0,
        ).total
        == 1
    )


# --- A freed slot is offered -------------------------------------------------------------------


def test_a_cancellation_offers_the_time_to_the_best_three_and_holds_it(
    clock, doctor, service, registrar, tue9, five
):
    visit = free(doctor, service, tue9, registrar)
    slot = waitlist_slot_freed(appointment_id=visit.pk)
    assert slot.status == F.OFFERING and slot.batch == 1
    offers = offers_of(slot)
    assert [o.patient for o in offers] == five[:3]
    hold = Hold.objects.get()
    assert slot.hold == hold and hold.channel == "waitlist"
    assert hold.expires_at == clock.now + datetime.timedelta(minutes=7)
    assert {o.expires_at for o in offers} == {hold.expires_at}
    assert Occupancy.objects.filter(hold=hold).exists()
    sent = OutboxMessage.objects.filter(event="waitlist.offer")
    assert sent.count() == 6  # SMS and e-mail each
    assert all(m.due_at == clock.now for m in sent)
    assert offers[0].token in sent.first().context["link"]
    assert (
        AuditEvent.objects.filter(
            object_type="scheduling.waitlist_offer", action=AuditAction.CREATE
        ).count()
        == 3
    )
    # Once per visit.
    assert waitlist_slot_freed(appointment_id=visit.pk) == slot
    assert FreedSlot.objects.count() == 1


def test_only_entries_that_fit_are_offered(
    clock, clinic_a, clinic_b, doctor, service, registrar, tue9, patient
):
    source = PatientFactory()
    other_doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    fits = [PatientFactory() for _ in range(3)]
    wait(fits[0], service)
    wait(fits[1], service, doctor=doctor, clinic=clinic_a)
    wait(fits[1], service)  # the same patient twice: one offer
    wait(fits[2], service, urgent=True)
    wait(PatientFactory(), service, doctor=other_doctor)
    wait(PatientFactory(), service, clinic=clinic_b)
    wait(PatientFactory(), ServiceFactory())
    wait(source, service)
    late = WaitlistEntry.objects.create(
        patient=PatientFactory(),
        service=service,
        date_from=DAY + datetime.timedelta(days=1),
        date_to=DAY + datetime.timedelta(days=2),
        created_at=T0,
    )
    wait(PatientFactory(), service, status=WaitlistStatus.CANCELLED)
    refused = PatientFactory()
    wait(refused, service)
    document = ConsentDocument.objects.create(
        purpose=ConsentPurpose.SERVICE_NOTIFICATIONS,
        version="1",
        title="t",
        body="b",
        published_at=T0,
    )
    Consent.objects.create(
        patient=refused,
        purpose=ConsentPurpose.SERVICE_NOTIFICATIONS,
        document=document,
        document_version="1",
        document_sha256=document.sha256,
        signer_kind="patient",
        channel="web",
        signature_method="click",
        signed_at=T0,
        withdrawn_at=T0,
    )
    visit = free(doctor, service, tue9, registrar, source=source)
    slot = waitlist_slot_freed(appointment_id=visit.pk)
    assert [o.patient for o in offers_of(slot)] == [fits[2], fits[0], fits[1]]
    assert late.offers.count() == 0


def wait_wide(patient, *, specialty=None, city="", service=None, **kw):
    return WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        specialty=specialty,
        city=city,
        date_from=DAY - datetime.timedelta(days=1),
        date_to=DAY + datetime.timedelta(days=5),
        created_at=T0,
        **kw,
    )


def test_entries_of_the_services_specialty_and_of_the_clinics_city_fit(
    clock, clinic_a, clinic_b, doctor, service, registrar, tue9
):
    by_specialty, in_city, both = PatientFactory(), PatientFactory(), PatientFactory()
    wait_wide(by_specialty, specialty=service.specialty)
    wait_wide(in_city, service=service, city=clinic_a.city)
    wait_wide(both, specialty=service.specialty, city=clinic_a.city, urgent=True)
    other_specialty = PatientFactory()
    wait_wide(other_specialty, specialty=ServiceFactory().specialty)
    wait_wide(PatientFactory(), service=service, city=clinic_b.city)
    wait_wide(PatientFactory(), specialty=service.specialty, city=clinic_b.city)
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    assert {o.patient for o in offers_of(slot)} == {by_specialty, in_city, both}
    assert offers_of(slot)[0].patient == both
    from scheduling.selectors.waitlist_offers import leaderboard

    # The clinic's staff see every entry of their clinic, its city or anywhere, not the
    # other city's, nor one for a specialty none of their doctors does.
    assert {c.entry.patient for c in leaderboard(clinic=clinic_a, now=clock.now)} == {
        by_specialty,
        in_city,
        both,
    }
    assert other_specialty not in {
        c.entry.patient for c in leaderboard(clinic=clinic_a, now=clock.now)
    }


def test_staff_assign_to_a_specialty_entry_but_not_to_another_specialtys(
    clock, doctor, service, registrar, tue9
):
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    other = wait_wide(PatientFactory(), specialty=ServiceFactory().specialty)
    with pytest.raises(InvalidInput):
        freed_slot_assign(slot=slot, entry=other, actor=registrar)
    entry = wait_wide(PatientFactory(), specialty=service.specialty)
    visit = freed_slot_assign(slot=slot, entry=entry, actor=registrar)
    assert visit.patient == entry.patient and visit.service == service


def test_a_patient_with_an_open_offer_is_not_offered_a_second_slot(
    clock, doctor, service, registrar, tue9, five, settings
):
    settings.WAITLIST_BATCH_SIZE = 5
    first = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    second = waitlist_slot_freed(
        appointment_id=free(doctor, service, tue9 + datetime.timedelta(hours=1), registrar).pk
    )
    assert len(offers_of(first)) == 5
    assert offers_of(second) == [] and second.status == F.UNFILLED


def test_a_slot_nobody_waits_for_stays_free(clock, doctor, service, registrar, tue9):
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    assert slot.status == F.UNFILLED and slot.closed_at == clock.now
    assert Hold.objects.count() == 0


def test_nothing_is_offered_for_a_visit_that_freed_nothing_ahead(
    clock, doctor, service, registrar, tue9, five
):
    assert waitlist_slot_freed(appointment_id=0) is None
    booked = book(PatientFactory(), doctor, service, tue9, registrar)
    assert waitlist_slot_freed(appointment_id=booked.pk) is None
    cancelled = appointment_cancel(appointment=booked, actor=registrar)
    clock.now = tue9 + datetime.timedelta(minutes=1)
    assert waitlist_slot_freed(appointment_id=cancelled.pk) is None
    assert FreedSlot.objects.count() == 0


def test_a_time_taken_before_the_offer_goes_out_is_not_offered(
    clock, doctor, service, registrar, tue9, five
):
    visit = free(doctor, service, tue9, registrar)
    book(PatientFactory(), doctor, service, tue9, registrar)
    slot = waitlist_slot_freed(appointment_id=visit.pk)
    assert slot.status == F.GONE
    assert WaitlistOffer.objects.count() == 0


def test_outside_contact_hours_the_batch_waits_for_the_window(
    clock, clinic_a, doctor, service, registrar, tue9, five
):
    BookingPolicy.objects.create(clinic=clinic_a, contact_hours_start=datetime.time(10))
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    opens = local(clinic_a, 2027, 3, 1, 10)
    assert slot.status == F.OFFERING and slot.next_step_at == opens
    assert WaitlistOffer.objects.count() == 0 and Hold.objects.count() == 0
    assert waitlist_offers_advance() == 0
    clock.now = opens
    assert waitlist_offers_advance() == 1
    assert len(offers_of(slot)) == 3


def test_a_slot_today_is_offered_at_once_whatever_the_hour(
    clock, clinic_a, doctor, service, registrar, five
):
    BookingPolicy.objects.create(clinic=clinic_a, contact_hours_start=datetime.time(10))
    for entry in WaitlistEntry.objects.all():
        entry.date_from = datetime.date(2027, 3, 1)
        entry.save()
    today = local(clinic_a, 2027, 3, 1, 11)
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, today, registrar).pk)
    assert len(offers_of(slot)) == 3


# --- Answers ------------------------------------------------------------------------------------


@pytest.fixture
def offered(clock, doctor, service, registrar, tue9, five):
    return waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)


def test_the_first_yes_books_and_the_others_are_told_it_is_taken(
    clock, offered, five, doctor, tue9
):
    clock.advance(minutes=3)
    second = offers_of(offered)[1]
    result = waitlist_offer_reply(patient=five[1], accept=True, channel="sms")
    assert result == second and result.status == OS.ACCEPTED
    assert result.answered_at == clock.now and result.answer_channel == "sms"
    visit = Appointment.objects.get(patient=five[1], status="booked")
    assert visit.channel == "waitlist" and visit.starts_at == tue9 and visit.doctor == doctor
    offered.refresh_from_db()
    assert offered.status == F.FILLED and offered.filled_by == visit and not offered.manual
    assert offered.time_to_fill == datetime.timedelta(minutes=3)
    assert Hold.objects.count() == 0
    assert {o.status for o in offers_of(offered)} == {OS.ACCEPTED, OS.TAKEN}
    assert OutboxMessage.objects.filter(event="waitlist.taken").count() == 4
    assert second.entry.__class__.objects.get(pk=second.entry_id).status == WaitlistStatus.BOOKED
    # A later YES finds it taken.
    late = waitlist_offer_reply(patient=five[0], accept=True, channel="sms")
    assert late is None
    taken = offers_of(offered)[0]
    assert waitlist_offer_answer(offer=taken, accept=True, actor=None, channel="web").status == (
        OS.TAKEN
    )
    assert Appointment.objects.filter(starts_at=tue9, status="booked").count() == 1


def test_a_winner_with_a_later_visit_swaps_it(
    clock, offered, five, doctor, service, registrar, clinic_a
):
    later = book(five[0], doctor, service, local(clinic_a, 2027, 3, 5, 10), registrar)
    offer = offers_of(offered)[0]
    assert (
        waitlist_offer_answer(offer=offer, accept=True, actor=five[0], channel="web").status
        == OS.ACCEPTED
    )
    later.refresh_from_db()
    assert later.status == "cancelled"
    assert Appointment.objects.filter(patient=five[0], status="booked").count() == 1


def test_a_winner_with_a_later_visit_gets_the_swap_said_in_the_offer(
    clock, doctor, service, registrar, clinic_a, tue9, five
):
    book(five[0], doctor, service, local(clinic_a, 2027, 3, 5, 10), registrar)
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    message = OutboxMessage.objects.filter(patient=five[0], event="waitlist.offer").first()
    assert message.context["swap_start"].startswith("2027-03-05T10:00")
    assert slot.offers.count() == 3


def test_an_acceptance_that_cannot_be_booked_moves_on(
    clock, clinic_a, offered, five, doctor, service, registrar, settings
):
    BookingPolicy.objects.create(clinic=clinic_a, max_active_per_patient=1)
    book(five[0], doctor, service, local(clinic_a, 2027, 3, 1, 10), registrar)  # earlier: no swap
    first = offers_of(offered)[0]
    result = waitlist_offer_answer(offer=first, accept=True, actor=None, channel="web")
    assert result.status == OS.CANCELLED and result.note == "too_many_active"
    offered.refresh_from_db()
    assert offered.batch == 1  # the others of the batch still decide
    for other in offers_of(offered, OS.OFFERED):
        waitlist_offer_answer(offer=other, accept=False, actor=None, channel="web")
    offered.refresh_from_db()
    assert offered.batch == 2
    assert {o.patient for o in offers_of(offered, OS.OFFERED)} == {five[3], five[4]}


def test_when_everybody_declines_the_next_batch_goes_out_then_the_slot_is_released(
    clock, offered, five
):
    for offer in offers_of(offered):
        assert (
            waitlist_offer_answer(offer=offer, accept=False, actor=None, channel="web").status
            == OS.DECLINED
        )
    offered.refresh_from_db()
    assert offered.batch == 2 and Hold.objects.count() == 1
    for patient in five[3:]:
        waitlist_offer_reply(patient=patient, accept=False, channel="telegram")
    offered.refresh_from_db()
    assert offered.status == F.UNFILLED and offered.hold is None
    assert Hold.objects.count() == 0 and Occupancy.objects.count() == 0


def test_a_late_answer_finds_the_offer_expired(clock, offered, five):
    clock.advance(minutes=8)
    result = waitlist_offer_reply(patient=five[0], accept=True, channel="sms")
    assert result.status == OS.EXPIRED and result.answered_at is None
    assert Appointment.objects.filter(patient=five[0]).count() == 0


def test_a_patient_answers_only_for_people_they_act_for(clock, offered, patient):
    with pytest.raises(NotAllowed):
        waitlist_offer_answer(
            offer=offers_of(offered)[0], accept=True, actor=patient.user, channel="web"
        )


# --- Expiry -----------------------------------------------------------------------------------


def test_expiry_moves_on_to_the_next_batch_and_finally_releases_the_slot(clock, offered, five):
    first_batch = offers_of(offered)
    clock.advance(minutes=7)
    assert waitlist_offers_advance() == 1
    assert {o.status for o in offers_of(offered) if o in first_batch} == {OS.EXPIRED}
    offered.refresh_from_db()
    assert offered.batch == 2
    assert {o.patient for o in offers_of(offered, OS.OFFERED)} == {five[3], five[4]}
    hold = Hold.objects.get()
    assert hold.expires_at == clock.now + datetime.timedelta(minutes=7)
    assert waitlist_offers_advance() == 0
    clock.advance(minutes=7)
    assert waitlist_offers_advance() == 1
    offered.refresh_from_db()
    assert offered.status == F.UNFILLED and Hold.objects.count() == 0


# --- Staff -------------------------------------------------------------------------------------


def test_staff_assign_a_slot_by_hand(clock, offered, five, registrar, tue9):
    entry = five[4].waitlist.get()
    visit = freed_slot_assign(slot=offered, entry=entry, actor=registrar)
    assert visit.patient == five[4] and visit.channel == "waitlist" and visit.starts_at == tue9
    offered.refresh_from_db()
    assert offered.status == F.FILLED and offered.manual
    assert {o.status for o in offers_of(offered)} == {OS.TAKEN}
    with pytest.raises(InvalidTransition):
        freed_slot_assign(slot=offered, entry=five[3].waitlist.get(), actor=registrar)


def test_staff_assign_a_slot_nobody_took(clock, doctor, service, registrar, tue9):
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    assert slot.status == F.UNFILLED
    someone = PatientFactory()
    entry = wait(someone, service)
    freed_slot_assign(slot=slot, entry=entry, actor=registrar)
    slot.refresh_from_db()
    assert slot.status == F.FILLED and slot.manual


def test_assigning_refuses_an_entry_that_does_not_fit_and_patients(
    clock, offered, five, registrar, patient
):
    other = wait(PatientFactory(), ServiceFactory())
    with pytest.raises(InvalidInput):
        freed_slot_assign(slot=offered, entry=other, actor=registrar)
    with pytest.raises(NotAllowed):
        freed_slot_assign(slot=offered, entry=five[0].waitlist.get(), actor=patient.user)
    offered.refresh_from_db()
    assert offered.status == F.OFFERING


def test_assigning_a_time_someone_else_booked_is_refused(clock, doctor, service, registrar, tue9):
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    book(PatientFactory(), doctor, service, tue9, registrar)
    with pytest.raises(SlotTaken):
        freed_slot_assign(slot=slot, entry=wait(PatientFactory(), service), actor=registrar)


def test_staff_set_urgency_and_boost(clock, service, registrar, patient):
    entry = wait(patient, service)
    updated = waitlist_entry_prioritise(entry=entry, urgent=True, boost=25, actor=registrar)
    assert (updated.urgent, updated.boost) == (True, 25)
    assert AuditEvent.objects.filter(
        object_type="scheduling.waitlist_entry", object_id=str(entry.public_id)
    ).exists()
    for boost in (-1, 41):
        with pytest.raises(InvalidInput):
            waitlist_entry_prioritise(entry=entry, urgent=False, boost=boost, actor=registrar)
    with pytest.raises(NotAllowed):
        waitlist_entry_prioritise(entry=entry, urgent=False, boost=0, actor=patient.user)
    entry.status = WaitlistStatus.CANCELLED
    entry.save()
    with pytest.raises(InvalidTransition):
        waitlist_entry_prioritise(entry=entry, urgent=False, boost=0, actor=registrar)


# --- The trigger --------------------------------------------------------------------------------


def test_a_committed_cancellation_starts_the_offers(
    clock, doctor, service, registrar, tue9, five, django_capture_on_commit_callbacks
):
    visit = book(PatientFactory(), doctor, service, tue9, registrar)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=visit, actor=registrar)
    slot = FreedSlot.objects.get(source=visit)
    assert len(offers_of(slot)) == 3


def test_a_patient_without_a_phone_gets_the_offer_by_email_only(
    clock, doctor, service, registrar, tue9
):
    patient = PatientFactory(phone="")
    wait(patient, service)
    waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    assert list(
        OutboxMessage.objects.filter(event="waitlist.offer").values_list("channel", flat=True)
    ) == ["email"]


def test_patients_no_message_can_reach_are_skipped_and_the_batch_goes_to_the_next(
    clock, doctor, service, registrar, tue9, five
):
    """The best two have no address (one is a child whose guardian has none either): the
    three offers go to the next three, and staff still see the two, marked."""
    from scheduling.selectors.waitlist_offers import leaderboard
    from tests.factories import FamilyLinkFactory

    silent = PatientFactory(phone="", email="")
    wait(silent, service, days_ago=300)
    child = PatientFactory(phone="", email="")
    FamilyLinkFactory(guardian=PatientFactory(phone="", email=""), dependant=child)
    wait(child, service, days_ago=290)
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    assert [o.patient for o in offers_of(slot)] == five[:3]
    board = leaderboard(clinic=slot.clinic, now=clock.now)
    assert [(c.entry.patient, c.reachable) for c in board[:3]] == [
        (silent, False),
        (child, False),
        (five[0], True),
    ]


def test_a_slot_another_worker_moved_is_skipped(clock, offered):
    from scheduling.services.waitlist_offers import _advance

    assert _advance(offered.pk, now=clock.now) is False


def test_an_sms_yes_reaches_the_offer_through_the_inbound_replies(clock, offered, five):
    """The waitlist's reply handler is registered at start-up (`SchedulingConfig.ready`)."""
    from notifications.inbound import inbound_receive

    clock.advance(minutes=1)
    result = inbound_receive(
        provider="twilio", channel="sms", external_id="SM1", sender=five[0].phone, text=" Да "
    )
    assert result is not None and result.patients[0] == five[0]
    assert Appointment.objects.filter(patient=five[0], channel="waitlist").exists()
    assert offers_of(offered)[0].answer_channel == "sms"


def _link_telegram(patient, chat):
    from portal.models import MessengerLink
    from portal.models.contact import chat_index

    MessengerLink.objects.create(patient=patient, chat_id=chat, chat_bidx=chat_index(chat))


def test_a_linked_telegram_chat_gets_the_offer_instead_of_the_sms_and_its_yes_books(
    clock, doctor, service, registrar, tue9
):
    from notifications.inbound import inbound_receive

    patient = PatientFactory()
    wait(patient, service)
    _link_telegram(patient, "7001")
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    offers = OutboxMessage.objects.filter(event="waitlist.offer", patient=patient)
    assert sorted(offers.values_list("channel", flat=True)) == ["email", "messenger"]
    assert offers.get(channel="messenger").to_address == "7001"
    clock.advance(minutes=1)
    inbound_receive(
        provider="telegram", channel="messenger", external_id="u1", sender="7001", text="ДА"
    )
    assert offers_of(slot)[0].status == OS.ACCEPTED
    assert offers_of(slot)[0].answer_channel == "messenger"


def test_a_chat_stopped_for_visit_messages_leaves_the_offer_on_sms(
    clock, doctor, service, registrar, tue9
):
    from portal.services.contact import contact_channel_stop

    patient = PatientFactory()
    wait(patient, service)
    _link_telegram(patient, "7002")
    contact_channel_stop(patients=[patient], channel="messenger")
    waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    channels = OutboxMessage.objects.filter(event="waitlist.offer", patient=patient)
    assert sorted(channels.values_list("channel", flat=True)) == ["email", "sms"]


def test_the_taken_notice_goes_to_the_chat_too(clock, doctor, service, registrar, tue9, five):
    _link_telegram(five[1], "7003")
    slot = waitlist_slot_freed(appointment_id=free(doctor, service, tue9, registrar).pk)
    waitlist_offer_reply(patient=five[0], accept=True, channel="sms")
    assert slot.pk
    taken = OutboxMessage.objects.filter(event="waitlist.taken", patient=five[1])
    assert sorted(taken.values_list("channel", flat=True)) == ["email", "messenger"]
