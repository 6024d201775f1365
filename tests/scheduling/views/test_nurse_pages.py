"""The head nurse's board: the quota calendar and its cells, quotas created, edited and
removed, the load page, closures and their visits — allowed and refused roles, the head nurse
of another clinic, unknown ids and bad input."""

import datetime

import pytest
from django.urls import reverse

from portal.choices import Role
from scheduling.models import Quota, QuotaCounter, RebookTask, ResourceClosure
from scheduling.services.booking import appointment_book
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    RoomFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
BOARD = reverse("scheduling:nurse")
LOAD = reverse("scheduling:nurse_load")
CLOSURES = reverse("scheduling:nurse_closures")
NEW_QUOTA = reverse("scheduling:nurse_quota_new")


@pytest.fixture
def as_user(as_user, settings):
    """Clients that read the pages in English (the default language is Russian)."""

    def make(user):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def head_nurse_b(clinic_b):
    return make_staff(Role.HEAD_NURSE, clinic_b, email="nurse-b@example.test")


@pytest.fixture
def quota(clinic_a, doctor):
    return Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=4)


def day_url(quota):
    return reverse("scheduling:nurse_quota_day", args=[quota.pk])


# --- The quota calendar ------------------------------------------------------------------------


def test_the_head_nurse_sees_the_week_with_editable_cells(clock, as_user, head_nurse_a, quota):
    QuotaCounter.objects.create(quota=quota, date=TUE, used=3, day_limit=6)
    page = as_user(head_nurse_a).get(BOARD, {"date": "2027-03-02"})
    assert page.status_code == 200
    html = page.content.decode()
    assert quota.doctor.full_name in html
    assert html.count('name="limit"') == 7
    assert 'value="6"' in html and "qc-own" in html
    assert NEW_QUOTA in html
    month = as_user(head_nurse_a).get(BOARD, {"date": "2027-03-02", "view": "month"})
    assert month.content.decode().count('name="limit"') == 31


def test_a_registrar_reads_the_calendar_but_changes_nothing(clock, as_user, registrar_a, quota):
    client = as_user(registrar_a)
    page = client.get(BOARD, {"date": "2027-03-02"})
    assert page.status_code == 200
    assert 'name="limit"' not in page.content.decode()
    assert "0/4" in page.content.decode()
    refused = client.post(day_url(quota), {"day": "2027-03-02", "limit": "9"})
    assert refused.status_code == 403
    assert client.get(NEW_QUOTA).status_code == 403
    assert not QuotaCounter.objects.exists()


@pytest.mark.parametrize("persona", ["patient", "marketer"])
def test_people_without_schedules_are_refused(clock, as_user, request, persona, quota):
    user = request.getfixturevalue(persona)
    client = as_user(getattr(user, "user", user))
    for url in (BOARD, LOAD, CLOSURES, NEW_QUOTA):
        assert client.get(url).status_code == 403
    assert client.post(day_url(quota), {"day": "2027-03-02", "limit": "1"}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, quota):
    for url in (BOARD, LOAD, CLOSURES, day_url(quota)):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_head_nurse_of_another_clinic_gets_404(clock, as_user, head_nurse_b, clinic_a, quota):
    client = as_user(head_nurse_b)
    assert client.get(BOARD, {"clinic": str(clinic_a.public_id)}).status_code == 404
    assert client.get(LOAD, {"clinic": str(clinic_a.public_id)}).status_code == 404
    assert client.get(reverse("scheduling:nurse_quota", args=[quota.pk])).status_code == 404
    assert client.post(day_url(quota), {"day": "2027-03-02", "limit": "1"}).status_code == 404
    delete = reverse("scheduling:nurse_quota_delete", args=[quota.pk])
    assert client.post(delete).status_code == 404
    assert Quota.objects.filter(pk=quota.pk).exists()
    assert not QuotaCounter.objects.exists()


def test_a_network_admin_picks_a_clinic_first(clock, as_user, network_admin, clinic_a, clinic_b):
    page = as_user(network_admin).get(BOARD)
    assert page.status_code == 200
    assert str(clinic_a.public_id) in page.content.decode()
    assert str(clinic_b.public_id) in page.content.decode()
    assert as_user(network_admin).get(BOARD, {"clinic": "nonsense"}).status_code == 404


def test_a_cell_saves_a_day_limit_with_htmx_and_without(clock, as_user, head_nurse_a, quota):
    client = as_user(head_nurse_a)
    cell = client.post(day_url(quota), {"day": "2027-03-02", "limit": "1"}, HTTP_HX_REQUEST="true")
    assert cell.status_code == 200
    assert 'value="1"' in cell.content.decode() and "<html" not in cell.content.decode()
    assert QuotaCounter.objects.get(quota=quota, date=TUE).day_limit == 1
    plain = client.post(day_url(quota), {"day": "2027-03-02", "limit": "", "view": "month"})
    assert plain.status_code == 302
    assert "view=month" in plain["Location"] and "date=2027-03-02" in plain["Location"]
    assert QuotaCounter.objects.get(quota=quota, date=TUE).day_limit is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2027-03-02", "limit": "-1"}, "A limit is a whole number"),
        ({"day": "2027-03-02", "limit": "lots"}, "A limit is a whole number"),
        ({"day": "2027-03-02", "limit": "1001"}, "A limit is a whole number"),
        ({"day": "yesterday", "limit": "2"}, "Choose a date within the calendar"),
        ({"day": "0001-01-02", "limit": "2"}, "Choose a date within the calendar"),
    ],
)
def test_bad_cells_say_why_and_change_nothing(clock, as_user, head_nurse_a, quota, data, message):
    client = as_user(head_nurse_a)
    cell = client.post(day_url(quota), data, HTTP_HX_REQUEST="true")
    assert cell.status_code == 200
    assert message in cell.content.decode()
    plain = client.post(day_url(quota), data, follow=True)
    assert message in plain.content.decode()
    assert not QuotaCounter.objects.exclude(day_limit=None).exists()


# --- Quotas ------------------------------------------------------------------------------------


def test_the_head_nurse_creates_a_quota(clock, as_user, head_nurse_a, doctor, service):
    client = as_user(head_nurse_a)
    assert client.get(NEW_QUOTA).status_code == 200
    data = {
        "channel": "phone",
        "doctor": str(doctor.public_id),
        "service": str(service.public_id),
        "limit": "5",
        "release_before_hours": "24",
    }
    response = client.post(NEW_QUOTA, data)
    assert response.status_code == 302
    quota = Quota.objects.get()
    assert (quota.doctor, quota.service, quota.limit, quota.release_before_hours) == (
        doctor,
        service,
        5,
        24,
    )
    twin = client.post(NEW_QUOTA, data)
    assert twin.status_code == 200
    assert "already has a quota" in twin.content.decode()
    assert Quota.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "pigeon", "limit": "5"},
        {"channel": "online", "limit": "-5"},
        {"channel": "online", "limit": ""},
        {"channel": "online", "limit": "2", "doctor": "00000000-0000-4000-8000-000000000000"},
        {"channel": "online", "limit": "2", "release_before_hours": "99999"},
    ],
)
def test_a_bad_quota_is_refused_with_errors(clock, as_user, head_nurse_a, doctor, data):
    response = as_user(head_nurse_a).post(NEW_QUOTA, data)
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Quota.objects.exists()


def test_a_doctor_of_another_clinic_is_not_offered(clock, as_user, head_nurse_a, clinic_b):
    stranger = DoctorFactory(clinics=[clinic_b])
    response = as_user(head_nurse_a).post(
        NEW_QUOTA, {"channel": "online", "limit": "1", "doctor": str(stranger.public_id)}
    )
    assert response.status_code == 200
    assert not Quota.objects.exists()


def test_the_head_nurse_edits_and_removes_a_quota(clock, as_user, head_nurse_a, quota):
    client = as_user(head_nurse_a)
    url = reverse("scheduling:nurse_quota", args=[quota.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"limit": "-2"})
    assert bad.status_code == 200 and 'class="field-error"' in bad.content.decode()
    assert client.post(url, {"limit": "9", "release_before_hours": ""}).status_code == 302
    quota.refresh_from_db()
    assert quota.limit == 9
    assert client.post(reverse("scheduling:nurse_quota_delete", args=[quota.pk])).status_code == 302
    assert not Quota.objects.exists()


def test_doctors_and_registrars_may_not_edit_quotas(clock, as_user, doctor_a, registrar_a, quota):
    for user in (doctor_a, registrar_a):
        client = as_user(user)
        url = reverse("scheduling:nurse_quota", args=[quota.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"limit": "1"}).status_code == 403
        delete = reverse("scheduling:nurse_quota_delete", args=[quota.pk])
        assert client.post(delete).status_code == 403
    quota.refresh_from_db()
    assert quota.limit == 4


# --- Load --------------------------------------------------------------------------------------


def test_the_load_page_shows_rooms_with_percentages_and_the_definition(
    clock, as_user, head_nurse_a, clinic_a, doctor
):
    room = RoomFactory(clinic=clinic_a, name="Процедурный")
    page = as_user(head_nurse_a).get(LOAD, {"date": "2027-03-02"})
    assert page.status_code == 200
    html = page.content.decode()
    assert room.name in html and "0%" in html
    assert "How the load is counted" in html
    assert as_user(head_nurse_a).get(LOAD, {"date": "not-a-date"}).status_code == 200


# --- Closures ----------------------------------------------------------------------------------


@pytest.fixture
def scan_room(clinic_a):
    """An ultrasound room with one doctor who scans 09:00–13:00 every day."""
    service = ServiceFactory(room_kind="ultrasound", duration_minutes=30)
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)
    room = RoomFactory(clinic=clinic_a, kind="ultrasound", name="УЗИ-1")
    visit = appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 10),
        channel="phone",
        actor=None,
    )
    return room, visit


def closure_data(room, **extra):
    return {
        "resource": f"room:{room.public_id}",
        "starts_at": "2027-03-02T09:30",
        "ends_at": "2027-03-02T12:00",
        "reason": "Ремонт",
    } | extra


def test_the_head_nurse_closes_a_room_and_the_desk_gets_the_visits(
    clock, as_user, head_nurse_a, clinic_a, scan_room
):
    room, visit = scan_room
    client = as_user(head_nurse_a)
    assert client.get(CLOSURES).status_code == 200
    response = client.post(CLOSURES, closure_data(room))
    closure = ResourceClosure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:nurse_closure", args=[closure.pk])
    assert closure.starts_at == local(clinic_a, 2027, 3, 2, 9, 30)
    task = RebookTask.objects.get()
    assert task.appointment == visit
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "to rebook" in html and visit.service.name in html
    listing = client.get(CLOSURES).content.decode()
    assert "УЗИ-1" in listing and "planned" in listing


def test_a_closure_hands_over_again_and_is_lifted(
    clock, as_user, head_nurse_a, clinic_a, scan_room
):
    room, visit = scan_room
    client = as_user(head_nurse_a)
    client.post(CLOSURES, closure_data(room))
    closure = ResourceClosure.objects.get()
    RebookTask.objects.all().delete()
    detail = client.get(reverse("scheduling:nurse_closure", args=[closure.pk]))
    assert "not sent yet" in detail.content.decode()
    hand = client.post(reverse("scheduling:nurse_closure_hand_over", args=[closure.pk]))
    assert hand.status_code == 302
    assert RebookTask.objects.get().appointment == visit
    lift = client.post(reverse("scheduling:nurse_closure_lift", args=[closure.pk]))
    assert lift.status_code == 302
    closure.refresh_from_db()
    assert closure.lifted_by == head_nurse_a
    clock.advance(days=2)
    page = client.post(reverse("scheduling:nurse_closure_lift", args=[closure.pk]), follow=True)
    assert page.status_code == 200


def test_lifting_a_closure_that_is_over_says_so(clock, as_user, head_nurse_a, scan_room):
    room, _visit = scan_room
    client = as_user(head_nurse_a)
    client.post(CLOSURES, closure_data(room))
    closure = ResourceClosure.objects.get()
    clock.advance(days=2)
    page = client.post(reverse("scheduling:nurse_closure_lift", args=[closure.pk]), follow=True)
    assert "already over" in page.content.decode()
    closure.refresh_from_db()
    assert closure.lifted_at is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ends_at": "2027-03-02T09:00"}, "The end must be after the start."),
        ({"starts_at": "2027-02-01T09:00", "ends_at": "2027-02-01T10:00"}, "already over"),
        ({"starts_at": "soon"}, "Enter a valid date/time."),
        ({"reason": ""}, "This field is required."),
        ({"resource": "room:00000000-0000-4000-8000-000000000000"}, "Select a valid choice"),
        ({"ends_at": "2029-03-02T09:00"}, "at most a year"),
    ],
)
def test_a_bad_closure_says_why_and_changes_nothing(
    clock, as_user, head_nurse_a, scan_room, extra, message
):
    room, _visit = scan_room
    response = as_user(head_nurse_a).post(CLOSURES, closure_data(room, **extra))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ResourceClosure.objects.exists()
    assert not RebookTask.objects.exists()


def test_errors_are_translated(clock, as_user, head_nurse_a, quota, settings):
    client = as_user(head_nurse_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    cell = client.post(day_url(quota), {"day": "2027-03-02", "limit": "-1"}, HTTP_HX_REQUEST="true")
    assert "Лимит — целое число от 0 до 1000." in cell.content.decode()


def test_a_room_of_another_clinic_cannot_be_closed(
    clock, as_user, head_nurse_a, clinic_b, scan_room
):
    foreign = RoomFactory(clinic=clinic_b)
    response = as_user(head_nurse_a).post(CLOSURES, closure_data(foreign))
    assert response.status_code == 200
    assert not ResourceClosure.objects.exists()


def test_others_may_not_close_lift_or_hand_over(
    clock, as_user, head_nurse_a, head_nurse_b, registrar_a, doctor_a, scan_room
):
    room, _visit = scan_room
    as_user(head_nurse_a).post(CLOSURES, closure_data(room))
    closure = ResourceClosure.objects.get()
    RebookTask.objects.all().delete()
    detail = reverse("scheduling:nurse_closure", args=[closure.pk])
    lift = reverse("scheduling:nurse_closure_lift", args=[closure.pk])
    hand = reverse("scheduling:nurse_closure_hand_over", args=[closure.pk])
    for user in (registrar_a, doctor_a):
        client = as_user(user)
        assert client.get(detail).status_code == 200  # schedule.view reads
        assert "Lift the closure" not in client.get(detail).content.decode()
        assert client.post(lift).status_code == 403
        assert client.post(hand).status_code == 403
        assert client.post(CLOSURES, closure_data(room, reason="x")).status_code == 403
    other = as_user(head_nurse_b)
    assert other.get(detail).status_code == 404
    assert other.post(lift).status_code == 404
    assert other.post(hand).status_code == 404
    closure.refresh_from_db()
    assert closure.lifted_at is None
    assert ResourceClosure.objects.count() == 1
    assert not RebookTask.objects.exists()


# --- Home and navigation -----------------------------------------------------------------------


def test_the_head_nurse_finds_the_board_from_home_and_the_menu(clock, as_user, head_nurse_a):
    home = as_user(head_nurse_a).get(reverse("portal:home"))
    assert home.content.decode().count(f'href="{BOARD}"') >= 2


def test_the_board_is_not_in_a_registrars_menu(clock, as_user, registrar_a):
    home = as_user(registrar_a).get(reverse("portal:home"))
    assert f'href="{BOARD}"' not in home.content.decode()


@pytest.mark.parametrize("view", ["month", "week"])
@pytest.mark.parametrize("date", ["9999-12-01", "9999-12-31", "0001-01-01"])
def test_a_date_beyond_the_calendar_shows_today_with_a_message(
    clock, as_user, head_nurse_a, clinic_a, quota, view, date
):
    client = as_user(head_nurse_a)
    for url in (BOARD, LOAD):
        page = client.get(url, {"clinic": clinic_a.public_id, "view": view, "date": date})
        assert page.status_code == 200
        body = page.content.decode()
        assert "outside the calendar" in body and "2027" in body
