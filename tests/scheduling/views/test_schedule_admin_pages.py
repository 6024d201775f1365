"""The clinic's schedule pages: the weekly hours grid and its rules, exceptions with the booked
visits an absence hits, and the booking policy — allowed and refused roles, the other clinic,
bad input."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from scheduling.choices import ExceptionKind
from scheduling.models import BookingPolicy, RebookTask, ScheduleException, ScheduleRule
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for as signed_in
from tests.factories import DoctorFactory, ScheduleRuleFactory

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


def client_for(user, language="en"):
    """A signed-in client reading the pages in `language` (English unless said)."""
    client = signed_in(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def url(name, clinic, *args):
    return reverse(f"scheduling:{name}", args=[clinic.public_id, *args])


@pytest.fixture
def rule(doctor, clinic_a):
    return ScheduleRule.objects.get(doctor=doctor, clinic=clinic_a, weekday=1)


@pytest.fixture
def foreign_rule(clinic_b, service):
    return ScheduleRuleFactory(doctor=DoctorFactory(clinics=[clinic_b]), clinic=clinic_b)


# --- Who gets in ---------------------------------------------------------------------------------


def test_staff_of_one_clinic_go_straight_to_its_grid(clinic_a, head_nurse_a, clinic_admin_a):
    for user in (head_nurse_a, clinic_admin_a):
        page = client_for(user).get(reverse("scheduling:schedule"))
        assert page.status_code == 302 and page["Location"] == url("schedule_grid", clinic_a)


def test_network_admins_choose_a_clinic(clinic_a, clinic_b, network_admin):
    client = client_for(network_admin)
    page = client.get(reverse("scheduling:schedule"))
    assert page.status_code == 200
    assert clinic_a.name in page.content.decode() and clinic_b.name in page.content.decode()
    chosen = client.get(reverse("scheduling:schedule") + f"?clinic={clinic_b.public_id}")
    assert chosen["Location"] == url("schedule_grid", clinic_b)


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "director", "marketer"])
def test_roles_that_do_not_manage_schedules_are_refused(request, clinic_a, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("scheduling:schedule")).status_code == 403
    assert client.get(url("schedule_grid", clinic_a)).status_code == 403
    assert client.get(url("schedule_policy", clinic_a)).status_code == 403


def test_patients_are_refused_and_anonymous_sent_to_sign_in(client, clinic_a, patient):
    assert client_for(patient.user).get(url("schedule_grid", clinic_a)).status_code == 403
    page = client.get(url("schedule_grid", clinic_a))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_the_other_clinic_and_its_rules_are_not_found(
    clinic_a, clinic_b, head_nurse_a, foreign_rule
):
    client = client_for(head_nurse_a)
    assert client.get(url("schedule_grid", clinic_b)).status_code == 404
    assert (
        client.get(reverse("scheduling:schedule") + f"?clinic={clinic_b.public_id}").status_code
        == 404
    )
    assert client.get(url("schedule_rule_edit", clinic_a, foreign_rule.pk)).status_code == 404
    assert client.post(url("schedule_rule_delete", clinic_a, foreign_rule.pk)).status_code == 404
    assert client.get(url("schedule_policy", clinic_b)).status_code == 404
    assert ScheduleRule.objects.filter(pk=foreign_rule.pk).exists()


# --- The grid and its rules ----------------------------------------------------------------------


def test_the_grid_shows_each_doctors_hours_and_the_clinics_zone(
    clock, doctor, head_nurse_a, clinic_a, django_assert_max_num_queries
):
    other = DoctorFactory(clinics=[clinic_a])
    ScheduleRuleFactory(doctor=other, clinic=clinic_a, weekday=2, breaks=[["11:00", "11:30"]])
    ScheduleRuleFactory(
        doctor=other,
        clinic=clinic_a,
        weekday=3,
        valid_from=datetime.date(2027, 4, 1),
        valid_until=datetime.date(2027, 6, 30),
    )
    client = client_for(head_nurse_a)
    client.get(url("schedule_grid", clinic_a))
    with django_assert_max_num_queries(12):
        page = client.get(url("schedule_grid", clinic_a))
    html = page.content.decode()
    assert doctor.full_name in html
    assert html.count("<b>09:00–13:00</b>") == 7 + 2
    assert "Иркутск (UTC+8)" in html and 'data-zone="Asia/Irkutsk"' in html
    assert "28:00 h a week" in html  # seven days of four hours
    assert "3:30 h a week" in html  # a break off, a rule from April not yet counted
    assert "from 01.04.2027" in html and "until 30.06.2027" in html


def test_a_rules_form_is_an_htmx_partial_or_a_whole_page(clock, rule, head_nurse_a, clinic_a):
    client = client_for(head_nurse_a)
    partial = client.get(url("schedule_rule_edit", clinic_a, rule.pk), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert 'value="09:00"' in partial.content.decode()
    page = client.get(url("schedule_rule_edit", clinic_a, rule.pk))
    assert "<html" in page.content.decode()


def rule_post(who, **changes):
    return {
        "doctor": str(who.public_id),
        "weekday": "1",
        "start_time": "14:00",
        "end_time": "18:00",
        "breaks": "15:00-15:15",
        "slot_step_minutes": "20",
        "buffer_minutes": "0",
        "room": "",
        "valid_from": "2027-03-01",
        "valid_until": "",
        **changes,
    }


def test_adding_hours_shows_them_in_free_slots(clock, doctor, service, head_nurse_a, clinic_a):
    client = client_for(head_nurse_a)
    form = client.get(url("schedule_rule_new", clinic_a) + f"?doctor={doctor.public_id}&weekday=1")
    assert form.status_code == 200
    page = client.post(url("schedule_rule_new", clinic_a), rule_post(doctor))
    assert page.status_code == 302 and page["Location"] == url("schedule_grid", clinic_a)
    added = ScheduleRule.objects.get(doctor=doctor, start_time=datetime.time(14))
    assert added.breaks == [["15:00", "15:15"]]
    local = [
        s.start.astimezone(clinic_a.tz).time()
        for s in free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    ]
    assert datetime.time(14, 20) in local and datetime.time(15) not in local


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_time": "12:00"}, "overlap"),
        ({"end_time": "13:00"}, "must end after"),
        ({"slot_step_minutes": "3"}, "5"),
        ({"breaks": "lunch"}, "12:00-12:30"),
        ({"start_time": "25:99"}, "time"),
        ({"doctor": "00000000-0000-4000-8000-000000000000"}, "doctor"),
        ({"weekday": "9"}, "9"),
        ({"valid_from": "2027-02-30"}, "date"),
    ],
)
def test_bad_hours_are_refused_with_a_message_and_nothing_saved(
    clock, doctor, head_nurse_a, clinic_a, changes, message
):
    before = ScheduleRule.objects.count()
    page = client_for(head_nurse_a).post(
        url("schedule_rule_new", clinic_a), rule_post(doctor, **changes)
    )
    assert page.status_code == 200
    assert 'class="field-error"' in page.content.decode() or "form-alert" in page.content.decode()
    assert ScheduleRule.objects.count() == before


def test_changing_and_removing_a_rule(clock, rule, doctor, clinic_admin_a, clinic_a):
    client = client_for(clinic_admin_a)
    page = client.post(
        url("schedule_rule_edit", clinic_a, rule.pk),
        rule_post(doctor, start_time="08:00", end_time="12:00", breaks=""),
    )
    assert page.status_code == 302
    rule.refresh_from_db()
    assert rule.start_time == datetime.time(8)
    assert client.post(url("schedule_rule_delete", clinic_a, rule.pk)).status_code == 302
    assert not ScheduleRule.objects.filter(pk=rule.pk).exists()
    assert client.get(url("schedule_rule_delete", clinic_a, rule.pk)).status_code == 405


# --- Exceptions ----------------------------------------------------------------------------------


def exception_post(who, **changes):
    return {
        "doctor": str(who.public_id),
        "kind": ExceptionKind.VACATION,
        "date_from": TUE.isoformat(),
        "date_to": TUE.isoformat(),
        "start_time": "",
        "end_time": "",
        "note": "",
        **changes,
    }


@pytest.fixture
def booked(clock, doctor, service, patient):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )


def test_an_absence_over_booked_visits_warns_first_then_hands_them_to_the_desk(
    booked, doctor, head_nurse_a, clinic_a, patient
):
    client = client_for(head_nurse_a)
    warned = client.post(url("schedule_exceptions", clinic_a), exception_post(doctor))
    html = warned.content.decode()
    assert warned.status_code == 200
    assert "1 booked visit" in html and patient.full_name in html
    assert 'name="confirm" value="1"' in html
    assert not ScheduleException.objects.exists()
    saved = client.post(url("schedule_exceptions", clinic_a), exception_post(doctor, confirm="1"))
    assert saved.status_code == 302
    assert ScheduleException.objects.get().kind == ExceptionKind.VACATION
    task = RebookTask.objects.get()
    assert task.appointment == booked and task.reason == "leave"
    booked.refresh_from_db()
    assert booked.status == "booked"
    listed = client.get(url("schedule_exceptions", clinic_a)).content.decode()
    assert "handed to the desk" in listed and doctor.full_name in listed


def test_the_preview_counts_the_visits_while_typing(booked, doctor, head_nurse_a, clinic_a):
    client = client_for(head_nurse_a)
    preview = url("schedule_exception_preview", clinic_a)
    hit = client.get(preview, exception_post(doctor), HTTP_HX_REQUEST="true")
    assert "1 booked visit" in hit.content.decode()
    clear = client.get(preview, exception_post(doctor, start_time="12:00", end_time="13:00"))
    assert "No booked visit" in clear.content.decode()
    extra = client.get(preview, exception_post(doctor, kind=ExceptionKind.EXTRA_HOURS))
    assert "booked visit" not in extra.content.decode().replace("No booked visit", "")
    assert client.get(preview, {"date_from": "nonsense"}).status_code == 200


def test_extra_hours_and_absences_without_visits_save_at_once(
    clock, doctor, head_nurse_a, clinic_a
):
    client = client_for(head_nurse_a)
    extra = exception_post(
        doctor, kind=ExceptionKind.EXTRA_HOURS, start_time="15:00", end_time="17:00"
    )
    assert client.post(url("schedule_exceptions", clinic_a), extra).status_code == 302
    assert (
        client.post(url("schedule_exceptions", clinic_a), exception_post(doctor)).status_code == 302
    )
    assert ScheduleException.objects.count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"date_to": "2027-03-01"},
        {"date_from": "2027-02-01", "date_to": "2027-02-02"},
        {"kind": ExceptionKind.EXTRA_HOURS},
        {"kind": "holiday"},
        {"start_time": "10:00"},
        {"doctor": "not-a-doctor"},
        {"date_from": ""},
    ],
)
def test_bad_exceptions_are_refused_with_a_message(clock, doctor, head_nurse_a, clinic_a, changes):
    page = client_for(head_nurse_a).post(
        url("schedule_exceptions", clinic_a), exception_post(doctor, **changes)
    )
    assert page.status_code == 200
    assert 'class="field-error"' in page.content.decode() or "form-alert" in page.content.decode()
    assert not ScheduleException.objects.exists()


def test_deleting_an_exception_and_the_other_clinics_ones(
    clock, doctor, clinic_a, clinic_b, head_nurse_a
):
    mine = ScheduleException.objects.create(
        doctor=doctor, clinic=clinic_a, kind=ExceptionKind.DAY_OFF, date_from=TUE, date_to=TUE
    )
    theirs = ScheduleException.objects.create(
        doctor=DoctorFactory(clinics=[clinic_b]),
        clinic=clinic_b,
        kind=ExceptionKind.DAY_OFF,
        date_from=TUE,
        date_to=TUE,
    )
    client = client_for(head_nurse_a)
    assert client.post(url("schedule_exception_delete", clinic_a, theirs.pk)).status_code == 404
    assert client.post(url("schedule_exception_delete", clinic_a, mine.pk)).status_code == 302
    assert list(ScheduleException.objects.all()) == [theirs]


def test_an_absence_in_every_clinic_is_listed_but_kept_from_a_one_clinic_manager(
    clock, doctor, clinic_a, clinic_b, head_nurse_a
):
    doctor.clinics.add(clinic_b)
    everywhere = ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.VACATION, date_from=TUE, date_to=TUE
    )
    client = client_for(head_nurse_a)
    assert "in every clinic" in client.get(url("schedule_exceptions", clinic_a)).content.decode()
    page = client.post(url("schedule_exception_delete", clinic_a, everywhere.pk), follow=True)
    assert "do not manage" in page.content.decode()
    assert ScheduleException.objects.filter(pk=everywhere.pk).exists()


# --- Booking policy ------------------------------------------------------------------------------


def policy_post(**changes):
    return {
        "mode": "native",
        "min_notice_minutes": "60",
        "horizon_days": "30",
        "reschedule_deadline_hours": "2",
        "cancel_deadline_hours": "24",
        "max_active_per_patient": "5",
        "max_reschedules": "2",
        "rollback_window_minutes": "15",
        "hold_ttl_minutes": "10",
        "reminder_offsets_minutes": "1440, 120",
        "contact_hours_start": "08:00",
        "contact_hours_end": "20:00",
        **changes,
    }


def test_a_clinic_admin_saves_the_policy(clinic_a, clinic_admin_a, service):
    client = client_for(clinic_admin_a)
    page = client.get(url("schedule_policy", clinic_a))
    assert "How far ahead free times are offered" in page.content.decode()
    saved = client.post(
        url("schedule_policy", clinic_a), policy_post(prepaid_services=[service.pk])
    )
    assert saved.status_code == 302
    policy = BookingPolicy.objects.get(clinic=clinic_a)
    assert policy.horizon_days == 30 and policy.reminder_offsets_minutes == [1440, 120]
    assert list(policy.prepaid_services.all()) == [service]
    again = client.post(
        url("schedule_policy", clinic_a), policy_post(prepaid_services=[service.pk]), follow=True
    )
    assert "Nothing changed" in again.content.decode()


def test_a_head_nurse_reads_the_policy_but_cannot_change_it(clinic_a, head_nurse_a):
    client = client_for(head_nurse_a)
    page = client.get(url("schedule_policy", clinic_a))
    assert page.status_code == 200
    assert "disabled" in page.content.decode()
    assert client.post(url("schedule_policy", clinic_a), policy_post()).status_code == 403
    assert not BookingPolicy.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"horizon_days": "0"},
        {"horizon_days": "9999"},
        {"reminder_offsets_minutes": "soon"},
        {"reminder_offsets_minutes": "60, 60"},
        {"mode": "teleport"},
        {"contact_hours_start": "8 am"},
        {"prepaid_services": ["999999"]},
    ],
)
def test_a_bad_policy_is_refused_with_a_message(clinic_a, clinic_admin_a, changes):
    page = client_for(clinic_admin_a).post(url("schedule_policy", clinic_a), policy_post(**changes))
    assert page.status_code == 200
    assert 'class="field-error"' in page.content.decode() or "form-alert" in page.content.decode()
    assert not BookingPolicy.objects.exists()


def test_the_pages_speak_russian(clock, doctor, clinic_admin_a, clinic_a):
    client = client_for(clinic_admin_a, language="ru")
    html = client.get(url("schedule_grid", clinic_a), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Часы работы" in html
    policy = client.get(
        url("schedule_policy", clinic_a), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Правила записи" in policy
