"""The day board's cached grid: kept encrypted, per viewer capability and filters, and never
shown after something it shows has changed (each kind of change is made between two loads of
the board and must show on the second)."""

import datetime
import re
import zlib

import pytest
from django.core.cache import cache
from django.urls import reverse

from portal.crypto import decrypt_bytes, encrypt_bytes
from scheduling.models import Appointment, Quota, ScheduleException, Substitution
from scheduling.selectors.day_board import day_board_version
from scheduling.selectors.day_board_cache import (
    BoardKey,
    BoardSummary,
    CachedBoard,
    cached_board,
    keep_board,
)
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
)
from scheduling.services.holds import hold_create, hold_release
from scheduling.services.schedule_rules import schedule_rule_delete
from tests.factories import ClinicFactory, DoctorFactory, PatientFactory, make_weekly_schedule

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)  # the clock's day; the doctor works 09:00–13:00 there
DESK = reverse("scheduling:desk")
POLL = reverse("scheduling:desk_board")


def at(clinic, hour, minute=0, day=MON):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic.tz)


@pytest.fixture
def caller(db):
    return PatientFactory(last_name="Соколова", first_name="Мария")


@pytest.fixture
def visit(clock, clinic_a, doctor, service, caller, registrar_a):
    return appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=at(clinic_a, 10),
        channel="phone",
        actor=registrar_a,
    )


@pytest.fixture
def desk(as_user, registrar_a, clinic_a):
    client = as_user(registrar_a)

    def load(**extra) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"clinic": clinic_a.public_id, **extra}.items())
        page = client.get(f"{DESK}?{query}")
        assert page.status_code == 200
        return page.content.decode()

    return load


def grid(body: str) -> str:
    start = body.index('<section id="board"')
    return body[start : body.index("</section>", start)]


def free_times(body: str) -> list[str]:
    return re.findall(r'class="dk-free"[^>]*>(\d\d:\d\d)<', body)


@pytest.fixture
def changed(clock, django_capture_on_commit_callbacks):
    """A change as production makes it: a little later than the board was read, and
    committed (what runs on commit runs)."""

    class Change:
        def __enter__(self):
            clock.advance(seconds=2)
            self.commit = django_capture_on_commit_callbacks(execute=True)
            return self.commit.__enter__()

        def __exit__(self, *exc):
            return self.commit.__exit__(*exc)

    return Change


# --- What is kept ------------------------------------------------------------------------------


def test_a_second_load_reads_the_grid_from_the_cache_with_fewer_queries(clock, desk, visit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        body = desk()
    with CaptureQueriesContext(connection) as second:
        again = desk()
    assert grid(again) == grid(body) and "Соколова" in grid(body)
    assert len(second.captured_queries) < len(first.captured_queries)
    # The schedule (stand-ins first) is read only to render.
    assert not any("scheduling_substitution" in q["sql"] for q in second.captured_queries)
    assert any("scheduling_substitution" in q["sql"] for q in first.captured_queries)


def test_the_kept_grid_is_encrypted_and_holds_no_csrf_token(clinic_a):
    summary = BoardSummary(
        zone="Asia/Irkutsk",
        utc_offset="UTC+8",
        doctors=[],
        services=[],
        service=None,
        status_counts={"booked": 1},
        show_released=False,
    )
    key = BoardKey(
        clinic_id=clinic_a.pk,
        day=MON,
        doctor=None,
        service=None,
        patient=None,
        released=False,
        language="ru",
        can_book=True,
        can_open=True,
        version="v1",
    )
    keep_board(key, CachedBoard(summary=summary, grid="<a>10:00 Соколова</a>"))
    raw = cache.get(key.cache_key())
    name = "Соколова".encode()
    assert name not in raw and name in zlib.decompress(decrypt_bytes(raw))
    kept = cached_board(key)
    assert kept.grid == "<a>10:00 Соколова</a>" and kept.summary == summary
    # Another version, capability or language is another entry.
    assert cached_board(BoardKey(**{**key.__dict__, "version": "v2"})) is None
    assert cached_board(BoardKey(**{**key.__dict__, "can_open": False})) is None
    assert cached_board(BoardKey(**{**key.__dict__, "language": "en"})) is None


def test_the_kept_grid_is_compressed_before_it_is_encrypted(clinic_a):
    key = BoardKey(clinic_a.pk, MON, None, None, None, False, "ru", True, True, "v1")
    summary = BoardSummary("Asia/Irkutsk", "UTC+8", [], [], None, {}, False)
    # A board's rows repeat their markup: the entry is a fraction of the grid it keeps.
    grid = "".join(
        f'<td class="dk-cell"><a class="chip">{n:02d}:00 Соколова</a></td>' for n in range(2000)
    )
    keep_board(key, CachedBoard(summary=summary, grid=grid))
    assert len(cache.get(key.cache_key())) < len(grid.encode()) / 4
    assert cached_board(key).grid == grid


def test_an_entry_not_in_the_kept_format_is_read_anew(clinic_a):
    key = BoardKey(clinic_a.pk, MON, None, None, None, False, "ru", True, True, "v1")
    # A text token (as entries were once kept) or anything else in its place: rendered anew.
    cache.set(key.cache_key(), "not bytes")
    assert cached_board(key) is None
    cache.set(key.cache_key(), encrypt_bytes(b"not compressed"))
    assert cached_board(key) is None


def test_a_grid_kept_under_a_retired_key_is_read_anew(clinic_a, settings):
    from cryptography.fernet import Fernet

    key = BoardKey(clinic_a.pk, MON, None, None, None, False, "ru", True, True, "v1")
    summary = BoardSummary("Asia/Irkutsk", "UTC+8", [], [], None, {}, False)
    keep_board(key, CachedBoard(summary=summary, grid="<p></p>"))
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert cached_board(key) is None


def test_the_page_and_the_poll_carry_no_cached_csrf_token(clock, as_user, registrar_a, desk, visit):
    page = desk()
    poll = re.search(r'id="board"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    client = as_user(registrar_a)
    grid = client.get(poll.split("&v=")[0]).content.decode()
    assert "csrfmiddlewaretoken" not in grid and "Соколова" in grid
    # The page's own search form has the token of this session.
    assert "csrfmiddlewaretoken" in page


def test_a_director_after_a_registrar_sees_statuses_not_names(
    clock, desk, as_user, director, clinic_a, visit
):
    assert "Соколова" in desk()
    seen = as_user(director).get(f"{DESK}?clinic={clinic_a.public_id}").content.decode()
    assert f'<span id="appt-{visit.public_id}"' in seen and "Соколова" not in seen


def test_filters_and_the_patient_booked_for_are_kept_apart(clock, desk, doctor, caller, visit):
    plain = desk()
    for_caller = desk(patient=caller.public_id)
    assert (
        f"patient={caller.public_id}" in for_caller and f"patient={caller.public_id}" not in plain
    )
    released = desk(released="1")
    assert "Hide cancelled" in released or "Скрыть отменённые" in released


# --- Every change shows on the next load ---------------------------------------------------------


def test_a_booking_a_cancel_a_move_and_a_check_in_show(
    clock, desk, changed, clinic_a, doctor, service, caller, registrar_a, visit
):
    assert f"appt-{visit.public_id}" in desk()
    with changed():
        other = appointment_book(
            patient=PatientFactory(last_name="Орлова"),
            doctor=doctor,
            service=service,
            start=at(clinic_a, 11),
            channel="phone",
            actor=registrar_a,
        )
    body = desk()
    assert f"appt-{other.public_id}" in body and "11:00" not in free_times(body)
    with changed():
        appointment_reschedule(appointment=other, start=at(clinic_a, 12), actor=registrar_a)
    body = desk()
    assert "11:00" in free_times(body) and "12:00" not in free_times(body)
    with changed():
        appointment_cancel(appointment=Appointment.objects.get(pk=other.pk), actor=registrar_a)
    body = desk()
    assert f"appt-{other.public_id}" not in body and "12:00" in free_times(body)
    clock.advance(hours=1, minutes=30)  # 09:30 local: the visit's day has begun
    desk()
    with changed():
        appointment_check_in(appointment=visit, actor=registrar_a)
    assert "st-checked_in" in desk()


def test_time_passing_takes_past_times_off(clock, desk, doctor):
    assert "09:00" in free_times(desk())
    clock.advance(hours=1, minutes=10)  # 09:10 local
    assert "09:00" not in free_times(desk())


def test_a_hold_shows_as_taken(clock, desk, changed, clinic_a, doctor, service, registrar_a):
    assert "11:30" in free_times(desk())
    with changed():
        hold_create(
            doctor=doctor,
            service=service,
            start=at(clinic_a, 11, 30),
            channel="phone",
            actor=registrar_a,
        )
    assert "11:30" not in free_times(desk())


def test_holds_of_the_day_move_the_version_and_those_of_other_days_do_not(
    clock, clinic_a, doctor, service, registrar_a, django_assert_num_queries
):
    def version(day=MON):
        return day_board_version(clinic=clinic_a, day=day, now=clock.now)

    tuesday = MON + datetime.timedelta(days=1)
    before, tuesday_before = version(), version(tuesday)
    held = hold_create(
        doctor=doctor, service=service, start=at(clinic_a, 11), channel="phone", actor=registrar_a
    )
    taken = version()
    assert taken != before and version(tuesday) == tuesday_before
    second = hold_create(
        doctor=doctor, service=service, start=at(clinic_a, 12), channel="phone", actor=registrar_a
    )
    assert version() not in (before, taken)
    hold_release(hold=held, actor=registrar_a)
    # The newest hold is the same as before the release: the count tells it apart.
    assert version() not in (before, taken)
    hold_release(hold=second, actor=registrar_a)
    assert version() == before and version(tuesday) == tuesday_before
    with django_assert_num_queries(1):
        version()


def test_a_visit_of_the_doctor_in_another_clinic_takes_the_time_here(
    clock, desk, changed, clinic_a, doctor, service, registrar_a
):
    elsewhere = ClinicFactory(timezone=clinic_a.timezone)
    doctor.clinics.add(elsewhere)
    # Both clinics list the doctor at 12:00–13:00 (as a double-booked schedule can).
    make_weekly_schedule(doctor, elsewhere, start=datetime.time(12), end=datetime.time(15))
    assert "12:30" in free_times(desk())
    with changed():
        appointment_book(
            patient=PatientFactory(),
            doctor=doctor,
            service=service,
            start=at(clinic_a, 12, 30),
            channel="phone",
            actor=registrar_a,
            clinic=elsewhere,
        )
    assert Appointment.objects.get(clinic=elsewhere)
    assert "12:30" not in free_times(desk())


def test_a_hold_of_the_doctor_in_another_clinic_takes_the_time_here(
    clock, desk, changed, clinic_a, doctor, service, registrar_a
):
    elsewhere = ClinicFactory(timezone=clinic_a.timezone)
    doctor.clinics.add(elsewhere)
    make_weekly_schedule(doctor, elsewhere, start=datetime.time(12), end=datetime.time(15))
    assert "12:30" in free_times(desk())
    with changed():
        hold_create(
            doctor=doctor,
            service=service,
            start=at(clinic_a, 12, 30),
            channel="phone",
            actor=registrar_a,
            clinic=elsewhere,
        )
    assert "12:30" not in free_times(desk())


# --- Time passing ------------------------------------------------------------------------------

TUE = MON + datetime.timedelta(days=1)


def test_another_days_board_is_kept_while_minutes_pass_and_drawn_anew_when_the_date_turns(
    clock, desk, clinic_a, doctor
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = desk(date=TUE.isoformat())
    version = day_board_version(clinic=clinic_a, day=TUE, now=clock.now)
    assert "badge-ok" not in grid(first) and "11:00" in free_times(first)
    clock.advance(hours=3, minutes=17)  # 11:17 local on Monday
    assert day_board_version(clinic=clinic_a, day=TUE, now=clock.now) == version
    with CaptureQueriesContext(connection) as kept:
        assert grid(desk(date=TUE.isoformat())) == grid(first)
    assert not any("scheduling_substitution" in q["sql"] for q in kept.captured_queries)
    clock.advance(hours=12, minutes=43)  # Tuesday 00:00 local: the board is today's
    assert day_board_version(clinic=clinic_a, day=TUE, now=clock.now) != version
    assert "badge-ok" in grid(desk(date=TUE.isoformat()))
    # Today's board moves with the minute: its times pass.
    today = day_board_version(clinic=clinic_a, day=TUE, now=clock.now)
    clock.advance(minutes=1)
    assert day_board_version(clinic=clinic_a, day=TUE, now=clock.now) != today


def test_a_hold_expiring_frees_its_time_on_another_days_board(
    clock, desk, clinic_a, doctor, service, registrar_a
):
    hold_create(
        doctor=doctor,
        service=service,
        start=at(clinic_a, 11, day=TUE),
        channel="phone",
        actor=registrar_a,
        ttl=datetime.timedelta(minutes=10),
    )
    assert "11:00" not in free_times(desk(date=TUE.isoformat()))
    clock.advance(minutes=9)
    assert "11:00" not in free_times(desk(date=TUE.isoformat()))
    clock.advance(minutes=2)  # the hold has expired (its row is still there)
    assert "11:00" in free_times(desk(date=TUE.isoformat()))


def test_a_quota_giving_way_before_its_slots_keeps_the_minute_on_other_days(
    clock, changed, clinic_a, doctor
):
    def version(at):
        return day_board_version(clinic=clinic_a, day=TUE, now=at)

    later = clock.now + datetime.timedelta(minutes=1)
    with changed():
        Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="phone", limit=1)
    assert version(later) == version(clock.now)
    with changed():
        Quota.objects.create(
            clinic=clinic_a, doctor=doctor, channel="phone", limit=1, release_before_hours=24
        )
    assert version(later) != version(clock.now)


def test_a_renamed_patient_and_doctor_show_their_new_names(
    clock, desk, changed, caller, doctor, visit
):
    body = desk()
    assert "Соколова" in body and doctor.last_name in body
    with changed():
        caller.last_name = "Журавлёва"
        caller.save()
    body = desk()
    assert "Журавлёва" in body and "Соколова" not in body
    with changed():
        doctor.last_name = "Новикова"
        doctor.save(update_fields=["last_name"])
    assert "Новикова" in desk()


def test_a_patient_saved_without_their_name_keeps_the_board(clock, desk, changed, caller, visit):
    from scheduling.selectors.day_board import board_generation

    desk()
    before = board_generation()
    with changed():
        caller.save(update_fields=["updated_at"])
    assert board_generation() == before


def test_a_doctor_joining_the_clinic_shows(clock, desk, changed, clinic_a, service):
    newcomer = DoctorFactory(services=[service], last_name="Пришедшая")
    make_weekly_schedule(newcomer, clinic_a)
    assert "Пришедшая" not in desk()
    with changed():
        newcomer.clinics.add(clinic_a)
    assert "Пришедшая" in desk()


def test_schedule_changes_show(clock, desk, changed, clinic_a, doctor, clinic_admin_a):
    assert len(free_times(desk())) == 8
    with changed():
        ScheduleException.objects.create(
            doctor=doctor, clinic=clinic_a, kind="day_off", date_from=MON, date_to=MON
        )
    assert free_times(desk()) == []
    with changed():
        ScheduleException.objects.filter(doctor=doctor).get().delete()
    assert len(free_times(desk())) == 8
    with changed():
        for rule in doctor.schedule_rules.all():
            schedule_rule_delete(rule=rule, actor=clinic_admin_a)
    assert free_times(desk()) == []


def test_a_stand_in_and_a_quota_move_the_version(clock, changed, clinic_a, doctor, service):
    substitute = DoctorFactory(services=[service], clinics=[clinic_a])
    before = day_board_version(clinic=clinic_a, day=MON, now=clock.now)
    with changed():
        Substitution.objects.create(
            clinic=clinic_a, date=MON, absent_doctor=doctor, substitute=substitute
        )
    after_stand_in = day_board_version(clinic=clinic_a, day=MON, now=clock.now)
    assert after_stand_in != before
    with changed():
        Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="phone", limit=1)
    assert day_board_version(clinic=clinic_a, day=MON, now=clock.now) != after_stand_in


def test_nothing_moves_the_generation_before_the_commit(clock, clinic_a, doctor, caller):
    from scheduling.selectors.day_board import board_generation

    before = board_generation()
    caller.last_name = "Журавлёва"
    caller.save()
    # The test's transaction is never committed: the board keeps its generation.
    assert board_generation() == before
