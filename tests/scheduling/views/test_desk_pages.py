"""The registrar desk's pages: the board, booking from a free slot, and the actions on one
appointment — allowed and refused roles, another clinic's staff, unknown ids, repeated POSTs."""

import datetime
import re

import pytest
from django.urls import reverse

from portal.models import AuditEvent, Patient
from scheduling.models import Appointment
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book, appointment_check_in
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)
DESK = reverse("scheduling:desk")
BOOK = reverse("scheduling:desk_book")
POLL = reverse("scheduling:desk_board")


def slot_at(doctor, service, clinic, hour, minute=0, channel="phone"):
    return next(
        slot
        for slot in free_slots(
            service=service, doctor=doctor, channel=channel, start_date=MON, end_date=MON
        )
        if slot.start.astimezone(clinic.tz).time() == datetime.time(hour, minute)
    )


@pytest.fixture
def caller(db):
    return PatientFactory(last_name="Соколова", first_name="Мария", phone="+79145550123")


@pytest.fixture
def visit(clock, clinic_a, doctor, service, caller, registrar_a):
    slot = slot_at(doctor, service, clinic_a, 10)
    return appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=registrar_a,
    )


def board_url(clinic, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"clinic": clinic.public_id, **extra}.items())
    return f"{DESK}?{query}"


# --- The board ---------------------------------------------------------------------------------


def test_a_registrar_sees_the_day_with_states_free_times_and_zone(
    clock, as_user, registrar_a, clinic_a, doctor, visit
):
    page = as_user(registrar_a).get(DESK)  # one clinic: no need to name it
    assert page.status_code == 200
    body = page.content.decode()
    assert doctor.last_name in body
    assert "Asia/Irkutsk" in body and "UTC+8" in body
    assert f'id="appt-{visit.public_id}"' in body and "st-booked" in body
    assert "Соколова" in body
    assert body.count('class="dk-free"') == 7  # 8 half-hours but the booked 10:00
    assert 'hx-trigger="every 5s"' in body
    assert 'data-shortcut="/"' in body and 'data-shortcut="j"' in body


@pytest.mark.parametrize("persona", ["head_nurse_a", "doctor_a", "clinic_admin_a"])
def test_other_roles_of_the_clinic_see_the_board(
    clock, as_user, request, persona, clinic_a, doctor
):
    user = request.getfixturevalue(persona)
    page = as_user(user).get(board_url(clinic_a))
    assert page.status_code == 200
    # Only those who may book get clickable free times.
    can_book = persona == "clinic_admin_a"
    assert ('class="dk-free"' in page.content.decode()) is can_book


def test_network_wide_staff_pick_a_clinic_first(clock, as_user, director, clinic_a, clinic_b):
    client = as_user(director)
    picker = client.get(DESK)
    assert picker.status_code == 200
    assert str(clinic_a.public_id) in picker.content.decode()
    assert str(clinic_b.public_id) in picker.content.decode()
    assert client.get(board_url(clinic_b)).status_code == 200


def test_who_may_not_open_patients_cards_sees_the_load_not_the_names(
    clock, as_user, director, registrar_a, clinic_a, visit
):
    chip = f'id="appt-{visit.public_id}"'
    link = reverse("scheduling:desk_appointment", args=[visit.public_id])
    seen = as_user(director).get(board_url(clinic_a)).content.decode()
    assert f"<span {chip}" in seen and link not in seen
    assert "Соколова" not in seen and "Запланировано" in seen
    assert as_user(director).get(link).status_code == 404
    booked = as_user(registrar_a).get(board_url(clinic_a)).content.decode()
    assert f"<a {chip}" in booked and link in booked


@pytest.mark.parametrize("persona", ["marketer", "patient"])
def test_roles_without_the_board_are_refused(clock, as_user, request, persona, clinic_a):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    assert as_user(user).get(board_url(clinic_a)).status_code == 403
    assert as_user(user).get(POLL + f"?clinic={clinic_a.public_id}").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, clinic_a):
    assert client.get(DESK)["Location"].startswith("/accounts/login/")


def test_another_clinics_registrar_gets_404_for_this_clinic(
    clock, as_user, registrar_b, clinic_a, clinic_b, doctor
):
    client = as_user(registrar_b)
    assert client.get(board_url(clinic_a)).status_code == 404
    assert client.get(POLL + f"?clinic={clinic_a.public_id}").status_code == 404
    own = client.get(DESK)
    assert own.status_code == 200 and clinic_b.name in own.content.decode()
    assert doctor.last_name not in own.content.decode()


def test_a_junk_date_shows_today_and_a_junk_clinic_is_404(clock, as_user, registrar_a, clinic_a):
    client = as_user(registrar_a)
    assert client.get(board_url(clinic_a, date="2027-99-99")).status_code == 200
    assert client.get(board_url(clinic_a, date="0001-01-01")).status_code == 200
    assert client.get(f"{DESK}?clinic=not-a-uuid").status_code == 404


def test_the_poll_answers_204_until_something_changes(
    clock, as_user, registrar_a, clinic_a, doctor, service, caller
):
    client = as_user(registrar_a)
    page = client.get(board_url(clinic_a)).content.decode()
    poll = re.search(r'id="board"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    # Another desk books meanwhile: the next poll brings the new board.
    appointment = appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=slot_at(doctor, service, clinic_a, 11).start,
        channel="online",
        actor=caller.user if caller.user_id else registrar_a,
    )
    fresh = client.get(poll, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200
    assert f"appt-{appointment.public_id}" in fresh.content.decode()
    assert "<html" not in fresh.content.decode()


# --- Booking from a free slot ----------------------------------------------------------------


def test_a_registrar_books_a_phone_call_finding_the_patient_in_one_field(
    clock, as_user, registrar_a, clinic_a, doctor, service, caller
):
    client = as_user(registrar_a)
    slot = slot_at(doctor, service, clinic_a, 9, 30)
    url = f"{BOOK}?slot={slot.slot_id}"
    form = client.get(url)
    assert form.status_code == 200 and "09:30" in form.content.decode()
    found = client.post(url, {"slot": slot.slot_id, "q": "0123 Соколова"}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert str(caller.public_id) in found.content.decode()
    assert AuditEvent.objects.filter(action="search").exists()
    booked = client.post(
        url, {"slot": slot.slot_id, "patient": str(caller.public_id), "channel": "phone"}
    )
    assert booked.status_code == 302
    appointment = Appointment.objects.get(patient=caller)
    assert appointment.channel == "phone" and appointment.quota_channel == "phone"
    assert appointment.booked_by == registrar_a
    assert f"#appt-{appointment.public_id}" in booked["Location"]
    # A double click books nothing more and lands on the visit.
    again = client.post(
        url, {"slot": slot.slot_id, "patient": str(caller.public_id), "channel": "phone"}
    )
    assert again.status_code == 302
    assert again["Location"] == reverse("scheduling:desk_appointment", args=[appointment.public_id])
    assert Appointment.objects.filter(patient=caller).count() == 1


def test_a_walk_in_takes_no_phone_quota(
    clock, as_user, registrar_a, clinic_a, doctor, service, caller
):
    slot = slot_at(doctor, service, clinic_a, 9)
    response = as_user(registrar_a).post(
        BOOK, {"slot": slot.slot_id, "patient": str(caller.public_id), "channel": "walk_in"}
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=caller)
    assert appointment.channel == "walk_in" and appointment.quota_channel == ""


def test_a_slot_taken_meanwhile_is_a_clear_message_with_fresh_times(
    clock, as_user, registrar_a, clinic_a, doctor, service, caller, visit
):
    taken = slot_at(doctor, service, clinic_a, 9)
    # The visit fixture took 10:00; book 09:00 by someone else, then try it.
    appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=taken.start,
        channel="phone",
        actor=registrar_a,
    )
    response = as_user(registrar_a).post(
        BOOK, {"slot": taken.slot_id, "patient": str(caller.public_id), "channel": "phone"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="book-error"' in body
    assert body.count('class="dk-free"') == 6  # the day's other free half-hours


def test_a_bad_channel_or_unknown_patient_books_nothing(
    clock, as_user, registrar_a, clinic_a, doctor, service, caller
):
    client = as_user(registrar_a)
    slot = slot_at(doctor, service, clinic_a, 9)
    bad_channel = client.post(
        BOOK, {"slot": slot.slot_id, "patient": str(caller.public_id), "channel": "online"}
    )
    assert bad_channel.status_code == 400
    unknown = client.post(
        BOOK,
        {
            "slot": slot.slot_id,
            "patient": "00000000-0000-4000-8000-000000000000",
            "channel": "phone",
        },
    )
    assert unknown.status_code == 404
    assert not Appointment.objects.exists()


def test_booking_is_refused_without_the_capability_or_in_another_clinic(
    clock, as_user, head_nurse_a, registrar_b, clinic_a, doctor, service, caller
):
    slot = slot_at(doctor, service, clinic_a, 9)
    data = {"slot": slot.slot_id, "patient": str(caller.public_id), "channel": "phone"}
    for user in (head_nurse_a, registrar_b):
        client = as_user(user)
        assert client.get(f"{BOOK}?slot={slot.slot_id}").status_code == 403
        assert client.post(BOOK, data).status_code == 403
    assert as_user(registrar_b).get(f"{BOOK}?slot=forged").status_code == 404
    assert not Appointment.objects.exists()


# --- One appointment ---------------------------------------------------------------------------


def action(visit, name):
    return reverse("scheduling:desk_action", args=[visit.public_id, name])


def test_the_appointment_page_shows_the_patient_and_the_allowed_buttons(
    clock, as_user, registrar_a, doctor_a, visit
):
    url = reverse("scheduling:desk_appointment", args=[visit.public_id])
    page = as_user(registrar_a).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Соколова" in body
    for name in ("confirm", "cancel", "rollback", "check-in"):
        assert action(visit, name) in body
    assert AuditEvent.objects.filter(action="view", object_id=str(visit.patient.public_id)).exists()
    # A doctor sees the visit but no desk buttons.
    doctors_page = as_user(doctor_a).get(url).content.decode()
    assert action(visit, "confirm") not in doctors_page


def test_confirm_is_done_once_and_a_repeat_says_so(clock, as_user, registrar_a, visit):
    client = as_user(registrar_a)
    first = client.post(action(visit, "confirm"), follow=True)
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    assert "flash-success" in first.content.decode()
    second = client.post(action(visit, "confirm"), follow=True)
    assert "flash-info" in second.content.decode()
    assert visit.events.filter(kind="confirmed").count() == 1


def test_check_in_then_complete_and_a_no_show_after_the_start(
    clock, as_user, registrar_a, doctor_a, head_nurse_a, visit, doctor, service, clinic_a, caller
):
    assert as_user(head_nurse_a).post(action(visit, "check-in")).status_code == 302
    visit.refresh_from_db()
    assert visit.status == "checked_in"
    # A doctor of the clinic may complete, not manage.
    assert as_user(doctor_a).post(action(visit, "confirm")).status_code == 403
    assert as_user(doctor_a).post(action(visit, "complete")).status_code == 302
    visit.refresh_from_db()
    assert visit.status == "completed"
    other = appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=slot_at(doctor, service, clinic_a, 9).start,
        channel="phone",
        actor=registrar_a,
    )
    clock.advance(hours=2)  # 10:00 in Irkutsk: the 09:00 visit has started
    assert as_user(registrar_a).post(action(other, "no-show")).status_code == 302
    other.refresh_from_db()
    assert other.status == "no_show"


def test_cancel_needs_the_capability_and_keeps_the_reason(
    clock, as_user, registrar_a, doctor_a, visit
):
    assert as_user(doctor_a).post(action(visit, "cancel"), {"reason": "x"}).status_code == 403
    response = as_user(registrar_a).post(action(visit, "cancel"), {"reason": "Заболела"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "cancelled" and visit.cancel_reason == "Заболела"


def test_the_red_button_undoes_a_booking_once(clock, as_user, registrar_a, head_nurse_a, visit):
    last = visit.events.order_by("-id").first()
    assert as_user(head_nurse_a).post(action(visit, "rollback"), {"reason": "x"}).status_code == 403
    client = as_user(registrar_a)
    data = {"reason": "Не тот пациент", "event": str(last.pk)}
    undone = client.post(action(visit, "rollback"), data, follow=True)
    visit.refresh_from_db()
    assert visit.status == "rolled_back"
    assert "flash-success" in undone.content.decode()
    again = client.post(action(visit, "rollback"), data, follow=True)
    assert "flash-info" in again.content.decode()


def test_the_red_button_restores_a_moved_visit(
    clock, as_user, registrar_a, visit, doctor, service, clinic_a
):
    client = as_user(registrar_a)
    target = slot_at(doctor, service, clinic_a, 12)
    move_url = reverse("scheduling:desk_reschedule", args=[visit.public_id])
    assert client.get(move_url).status_code == 200
    assert client.post(move_url, {"slot": target.slot_id, "reason": ""}).status_code == 302
    visit.refresh_from_db()
    assert visit.starts_at.astimezone(clinic_a.tz).hour == 12
    # A second submit of the same move changes nothing.
    client.post(move_url, {"slot": target.slot_id})
    assert visit.moves.count() == 1
    last = visit.events.order_by("-id").first()
    page = client.post(
        action(visit, "rollback"), {"reason": "ошиблась", "event": str(last.pk)}, follow=True
    )
    visit.refresh_from_db()
    assert visit.starts_at.astimezone(clinic_a.tz).hour == 10 and visit.status == "booked"
    # The message names the restored time, in the clinic's zone.
    assert "10:00" in page.content.decode() and "flash-success" in page.content.decode()


def test_another_clinic_wrong_ids_and_unknown_actions_are_404(
    clock, as_user, registrar_b, registrar_a, visit
):
    other = as_user(registrar_b)
    assert (
        other.get(reverse("scheduling:desk_appointment", args=[visit.public_id])).status_code == 404
    )
    assert other.post(action(visit, "confirm")).status_code == 404
    assert (
        other.get(reverse("scheduling:desk_reschedule", args=[visit.public_id])).status_code == 404
    )
    mine = as_user(registrar_a)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert mine.get(reverse("scheduling:desk_appointment", args=[unknown])).status_code == 404
    assert (
        mine.post(reverse("scheduling:desk_action", args=[unknown, "confirm"])).status_code == 404
    )
    assert mine.post(action(visit, "delete")).status_code == 404
    assert mine.get(action(visit, "confirm")).status_code == 405
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_check_in_before_the_day_is_a_message_not_an_error(
    clock, as_user, registrar_a, doctor, service, clinic_a, caller
):
    tuesday = MON + datetime.timedelta(days=1)
    slot = next(
        s for s in free_slots(service=service, doctor=doctor, start_date=tuesday, end_date=tuesday)
    )
    later = appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=registrar_a,
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the service refuses
        appointment_check_in(appointment=later, actor=registrar_a)
    page = as_user(registrar_a).post(action(later, "check-in"), follow=True)
    assert page.status_code == 200
    assert "flash-error" in page.content.decode()


# --- The patient card and the home page ------------------------------------------------------


def test_the_patient_card_lists_visits_with_desk_links_and_a_book_button(
    clock, as_user, registrar_a, registrar_b, clinic_a, visit, caller
):
    card = reverse("portal:patient_card", args=[caller.public_id])
    body = as_user(registrar_a).get(card).content.decode()
    assert reverse("scheduling:desk_appointment", args=[visit.public_id]) in body
    assert f"{DESK}?clinic={clinic_a.public_id}&amp;patient={caller.public_id}" in body
    # Another clinic's registrar opens the shared profile, but not this clinic's visits.
    other = as_user(registrar_b).get(card).content.decode()
    assert str(visit.public_id) not in other


def test_booking_from_the_card_shows_the_patient_and_carries_them_to_the_slot(
    clock, as_user, registrar_a, clinic_a, doctor, caller
):
    page = as_user(registrar_a).get(board_url(clinic_a, patient=caller.public_id))
    body = page.content.decode()
    assert caller.last_name in body
    assert f"&amp;patient={caller.public_id}" in body


def test_the_registrar_home_links_to_the_day_board(as_user, registrar_a):
    body = as_user(registrar_a).get(reverse("portal:home")).content.decode()
    assert f'href="{DESK}"' in body


def test_the_booking_form_finds_a_patient_by_passport_number(
    clock, as_user, registrar_a, clinic_a, doctor, service
):
    holder = PatientFactory(id_document_type="passport_ru", id_document_number="2512 654321")
    slot = slot_at(doctor, service, clinic_a, 9)
    found = as_user(registrar_a).post(
        f"{BOOK}?slot={slot.slot_id}",
        {"slot": slot.slot_id, "q": "2512654321"},
        HTTP_HX_REQUEST="true",
    )
    assert found.status_code == 200
    assert str(holder.public_id) in found.content.decode()


def test_other_apps_can_add_a_panel_beside_the_board(
    clock, as_user, registrar_a, clinic_a, monkeypatch
):
    from portal import panels

    seen = {}

    def caller_card(request, *, clinic):
        seen["clinic"] = clinic
        return {"upcoming": [], "specialties": []}

    monkeypatch.setitem(
        panels._panels, panels.DESK, [panels.Panel("scheduling/panels/my_visits.html", caller_card)]
    )
    body = as_user(registrar_a).get(DESK).content.decode()
    assert seen["clinic"] == clinic_a
    assert 'id="my-visits-title"' in body


def test_those_on_the_lines_get_the_caller_panel_on_the_board(
    clock, as_user, registrar_a, head_nurse_a, clinic_a
):
    assert 'id="caller-panel"' in as_user(registrar_a).get(DESK).content.decode()
    assert 'id="caller-panel"' not in as_user(head_nurse_a).get(DESK).content.decode()


def test_a_new_patient_registered_from_a_free_time_comes_back_to_book_it(
    clock, as_user, registrar_a, clinic_a, doctor, service
):
    client = as_user(registrar_a)
    slot = slot_at(doctor, service, clinic_a, 9, 30)
    url = f"{BOOK}?slot={slot.slot_id}"
    html = client.get(url).content.decode()
    register = re.search(r'href="(/staff/patients/new/\?next=[^"]+)"', html).group(1)
    # The search that finds nobody offers the same way back.
    nobody = client.post(url, {"slot": slot.slot_id, "q": "0000 Никтова"}, HTTP_HX_REQUEST="true")
    assert register in nobody.content.decode()
    created = client.post(
        register.replace("&amp;", "&"),
        {
            "last_name": "Зайцева",
            "first_name": "Мария",
            "birth_date": "1988-02-03",
            "phone": "8 914 777-66-55",
            "home_clinic": clinic_a.pk,
        },
    )
    patient = Patient.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"{BOOK}?slot={slot.slot_id}&patient={patient.public_id}"
    # The booking form opens with the new patient chosen for the same free time.
    form = client.get(created["Location"]).content.decode()
    assert str(patient.public_id) in form and "09:30" in form


def test_registration_returns_only_to_this_site(as_user, registrar_a, clinic_a):
    created = as_user(registrar_a).post(
        "/staff/patients/new/?next=https://elsewhere.example/steal",
        {
            "last_name": "Зайцева",
            "first_name": "Мария",
            "birth_date": "1988-02-03",
            "phone": "8 914 777-66-55",
            "home_clinic": clinic_a.pk,
        },
    )
    patient = Patient.objects.get()
    assert created["Location"] == reverse("portal:patient_card", args=[patient.public_id])


def test_russian_day_headings_put_the_month_in_the_genitive(
    clock, as_user, registrar_a, clinic_a, visit
):
    client = as_user(registrar_a)
    ru = {"Accept-Language": "ru"}
    board = client.get(board_url(clinic_a, date="2027-03-02"), headers=ru).content.decode()
    assert "Вторник, 2 марта 2027" in board and "Март" not in board
    move = reverse("scheduling:desk_reschedule", args=[visit.public_id])
    page = client.get(f"{move}?date=2027-03-02", headers=ru).content.decode()
    assert "Вторник, 2 марта" in page and "2 Март" not in page


def test_a_date_beyond_the_calendar_shows_today_with_a_message(
    clock, as_user, registrar_a, clinic_a, visit
):
    client = as_user(registrar_a)
    en = {"Accept-Language": "en"}
    move = reverse("scheduling:desk_reschedule", args=[visit.public_id])
    for url in (board_url(clinic_a, date="9999-12-31"), f"{move}?date=9999-12-31"):
        page = client.get(url, headers=en)
        assert page.status_code == 200
        assert "outside the calendar" in page.content.decode()


def test_the_appointment_and_booking_pages_read_as_staff_pages_in_russian(
    clock, as_user, registrar_a, clinic_a, doctor, service, visit
):
    client = as_user(registrar_a)
    ru = {"Accept-Language": "ru"}
    url = reverse("scheduling:desk_appointment", args=[visit.public_id])
    body = client.get(url, headers=ru).content.decode()
    assert "<dt>Запись создана</dt>" in body and "<dt>Запланировано</dt>" not in body
    assert "dk-status-title" in body  # a plain badge in the heading, no bracket-like rule
    assert "время: Иркутск, UTC+8" in body and 'data-zone="Asia/Irkutsk"' in body
    assert "время клиники, Asia/Irkutsk" not in body
    slot = slot_at(doctor, service, clinic_a, 11)
    book = client.get(f"{BOOK}?slot={slot.slot_id}", headers=ru).content.decode()
    assert "<h1>Запись пациента</h1>" in book and "Записаться на приём</h1>" not in book


# --- Undoing a status marked by mistake ----------------------------------------------------------


def undo_url(visit):
    return reverse("scheduling:desk_undo_status", args=[visit.public_id])


def test_a_wrong_check_in_is_undone_from_the_visit_page(clock, as_user, registrar_a, visit):
    client = as_user(registrar_a)
    page = reverse("scheduling:desk_appointment", args=[visit.public_id])
    assert 'id="undo-status-reason"' not in client.get(page).content.decode()
    assert client.post(action(visit, "check-in")).status_code == 302
    body = client.get(page).content.decode()
    assert 'id="undo-status-reason"' in body and undo_url(visit) in body
    last = visit.events.order_by("-id").first()
    done = client.post(
        undo_url(visit), {"reason": "Не тот пациент", "event": str(last.pk)}, follow=True
    )
    visit.refresh_from_db()
    assert visit.status == "booked" and visit.checked_in_at is None
    assert "flash-success" in done.content.decode()
    assert 'id="undo-status-reason"' not in done.content.decode()
    # The same form sent again finds a newer change and changes nothing.
    again = client.post(undo_url(visit), {"reason": "Не тот пациент", "event": str(last.pk)})
    assert again.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_an_undo_without_a_reason_changes_nothing(clock, as_user, registrar_a, visit):
    appointment_check_in(appointment=visit, actor=registrar_a)
    page = as_user(registrar_a).post(undo_url(visit), {"reason": " "}, follow=True)
    assert "flash-error" in page.content.decode()
    visit.refresh_from_db()
    assert visit.status == "checked_in"


def test_undo_is_refused_to_other_roles_clinics_and_anonymous(
    clock, as_user, client, registrar_a, registrar_b, head_nurse_a, doctor_a, patient, visit
):
    appointment_check_in(appointment=visit, actor=registrar_a)
    page = reverse("scheduling:desk_appointment", args=[visit.public_id])
    # The head nurse sees the visit but may not undo: no form, and a 403.
    assert 'id="undo-status-reason"' not in as_user(head_nurse_a).get(page).content.decode()
    assert as_user(head_nurse_a).post(undo_url(visit), {"reason": "x"}).status_code == 403
    assert as_user(doctor_a).post(undo_url(visit), {"reason": "x"}).status_code == 403
    assert as_user(registrar_b).post(undo_url(visit), {"reason": "x"}).status_code == 404
    # A patient is no desk user: 404.
    assert as_user(patient.user).post(undo_url(visit), {"reason": "x"}).status_code == 404
    assert client.post(undo_url(visit), {"reason": "x"}).status_code == 302  # to sign-in
    assert as_user(registrar_a).get(undo_url(visit)).status_code == 405
    visit.refresh_from_db()
    assert visit.status == "checked_in"
