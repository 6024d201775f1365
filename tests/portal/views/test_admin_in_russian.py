"""The admin speaks Russian: every registered model's list and add pages render with Russian
column and field labels (no raw field names), counts decline by number ("5 клиник"), and
schedule rules show weekdays by name."""

import datetime
import re
import zoneinfo
from html import unescape

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone, translation

from portal.choices import ConsentPurpose
from portal.models import Clinic, ConsentDocument
from portal.templatetags.admin_counts import admin_result_count
from scheduling.choices import AppointmentChannel, ExceptionKind, QuotaChannel
from scheduling.models import (
    BookingPolicy,
    LeaveRequest,
    Quota,
    ScheduleException,
    Substitution,
)
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    PatientWithLoginFactory,
    RoomFactory,
    ServiceFactory,
    UserFactory,
    make_weekly_schedule,
)

pytestmark = pytest.mark.django_db

# The admin pages of the project's own models. A model registered later joins this list (the
# first test says so) and gets a row in `rows_of_every_model`, so its list shows columns.
REGISTERED = [
    "portal.LegalEntity",
    "portal.Clinic",
    "portal.StaffMembership",
    "portal.ConsentDocument",
    "portal.User",
    "scheduling.Specialty",
    "scheduling.EquipmentType",
    "scheduling.Service",
    "scheduling.Room",
    "scheduling.Equipment",
    "scheduling.Doctor",
    "scheduling.Appointment",
    "scheduling.BookingPolicy",
    "scheduling.ScheduleRule",
    "scheduling.ScheduleException",
    "scheduling.Substitution",
    "scheduling.LeaveRequest",
    "scheduling.Quota",
]
PROJECT_APPS = {"portal", "scheduling", "notifications", "crm", "analytics"}
WEEKDAYS_RU = ["Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье"]

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
SNAKE_CASE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
RESULT_LIST = re.compile(r'<table id="result_list">(.*?)</table>', re.S)
COLUMN_HEADER = re.compile(r'<th scope="col"[^>]*>(.*?)</th>', re.S)
INLINE_COLUMN_HEADER = re.compile(r'<th class="column-[^"]*"[^>]*>(.*?)</th>', re.S)
FIELD_LABEL = re.compile(r"<label[^>]*>(.*?)</label>", re.S)
PAGINATOR = re.compile(r'<p class="paginator">(.*?)</p>', re.S)
WEEKDAY_CELL = re.compile(r'<td class="field-weekday">(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


def texts(pattern: re.Pattern, html: str) -> list[str]:
    """The visible text of every match, without tags; empty ones (checkbox columns) left out."""
    found = (" ".join(unescape(TAG.sub(" ", match)).split()) for match in pattern.findall(html))
    return [text for text in found if text]


def column_headers_of_the_list(html: str) -> list[str]:
    """Headers of the list's own table (the navigation sidebar has tables with headers too)."""
    table = RESULT_LIST.search(html)
    assert table, "the list shows no rows"
    return texts(COLUMN_HEADER, table.group(1))


def admin_url(label: str, page: str) -> str:
    opts = apps.get_model(label)._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}")


def assert_russian(labels: list[str], where: str) -> None:
    assert labels, f"no labels on {where}"
    for text in labels:
        assert CYRILLIC.search(text), f"{text!r} on {where} is not in Russian"
        assert not SNAKE_CASE.search(text), f"{text!r} on {where} is a raw field name"


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.test", is_staff=True, is_superuser=True)


@pytest.fixture
def rows_of_every_model(clinic_a, registrar_a, superuser):
    """One row of each registered model: an empty list shows no columns."""
    service = ServiceFactory()
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    substitute = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)
    RoomFactory(clinic=clinic_a)
    EquipmentFactory(clinic=clinic_a)
    ConsentDocument.objects.create(
        purpose=ConsentPurpose.PERSONAL_DATA,
        version="1",
        title="Согласие на обработку персональных данных",
        body="Текст согласия.",
        published_at=timezone.now(),
    )
    tomorrow = datetime.datetime.now(zoneinfo.ZoneInfo(clinic_a.timezone)).date()
    tomorrow += datetime.timedelta(days=1)
    # The vacation is a week away, so tomorrow's 09:00 stays bookable.
    next_week = tomorrow + datetime.timedelta(days=7)
    ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.VACATION, date_from=next_week, date_to=next_week
    )
    Substitution.objects.create(
        clinic=clinic_a, date=next_week, absent_doctor=doctor, substitute=substitute
    )
    LeaveRequest.objects.create(
        doctor=doctor, kind="substitution", date_from=next_week, date_to=next_week
    )
    BookingPolicy.objects.create(clinic=clinic_a)
    Quota.objects.create(clinic=clinic_a, channel=QuotaChannel.PHONE, limit=10)
    patient = PatientWithLoginFactory()
    start = datetime.datetime.combine(
        tomorrow, datetime.time(9), tzinfo=zoneinfo.ZoneInfo(clinic_a.timezone)
    )
    appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=AppointmentChannel.PHONE,
        actor=registrar_a,
    )


def test_every_registered_model_of_the_project_is_checked_here():
    registered = {
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and admin.site.is_registered(model)
    }
    assert registered == set(REGISTERED)


@pytest.mark.parametrize("label", REGISTERED)
def test_the_list_page_has_russian_column_labels(superuser, rows_of_every_model, label):
    response = client_for(superuser).get(admin_url(label, "changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru"' in html
    assert_russian(column_headers_of_the_list(html), f"the list of {label}")


@pytest.mark.parametrize("label", REGISTERED)
def test_the_add_page_has_russian_field_labels(superuser, label):
    model = apps.get_model(label)
    response = client_for(superuser).get(admin_url(label, "add"))
    if not admin.site.get_model_admin(model).has_add_permission(response.wsgi_request):
        # Appointments are made only by the booking service, never in the admin.
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert_russian(texts(FIELD_LABEL, html), f"the add page of {label}")
    if '<div class="inline-group"' in html:
        assert_russian(texts(INLINE_COLUMN_HEADER, html), f"the inlines of the add page of {label}")


@pytest.mark.parametrize("label", REGISTERED)
def test_every_list_words_its_count_in_the_plural_its_number_takes(label):
    assert admin.site.get_model_admin(apps.get_model(label)).count_phrase


@pytest.mark.parametrize(
    ("count", "words"),
    [(1, "1 клиника"), (3, "3 клиники"), (5, "5 клиник"), (11, "11 клиник"), (21, "21 клиника")],
)
def test_a_count_declines_by_its_number(count, words):
    class ChangeList:
        model_admin = admin.site.get_model_admin(Clinic)
        opts = Clinic._meta
        result_count = count

    with translation.override("ru"):
        assert admin_result_count(ChangeList()) == words


def test_schedule_rules_are_listed_with_weekdays_by_name(superuser, clinic_a):
    make_weekly_schedule(DoctorFactory(clinics=[clinic_a]), clinic_a)
    response = client_for(superuser).get(admin_url("scheduling.ScheduleRule", "changelist"))
    html = response.content.decode()
    assert texts(WEEKDAY_CELL, html) == WEEKDAYS_RU
    assert texts(PAGINATOR, html) == ["7 правил расписания"]
    # The weekday filter offers the days by name too.
    for day in WEEKDAYS_RU:
        assert f"?weekday__exact={WEEKDAYS_RU.index(day)}" in html
        assert day in html


def test_the_schedule_rule_form_offers_weekdays_by_name(superuser):
    response = client_for(superuser).get(admin_url("scheduling.ScheduleRule", "add"))
    field = response.context["adminform"].form.fields["weekday"]
    assert [str(name) for value, name in field.choices if value != ""] == WEEKDAYS_RU


@pytest.mark.parametrize("label", ["portal.Clinic", "scheduling.Service", "scheduling.Quota"])
def test_a_network_admin_sees_the_same_russian_labels(network_admin, rows_of_every_model, label):
    response = client_for(network_admin).get(admin_url(label, "changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_russian(column_headers_of_the_list(html), f"the list of {label}")


@pytest.mark.parametrize("label", ["auth.Group", "account.EmailAddress", "mfa.Authenticator"])
def test_the_lists_of_libraries_models_still_open_with_their_own_count(superuser, label):
    model = apps.get_model(label)
    assert admin.site.is_registered(model)
    response = client_for(superuser).get(admin_url(label, "changelist"))
    assert response.status_code == 200
    count, _, name = texts(PAGINATOR, response.content.decode())[0].partition(" ")
    with translation.override("ru"):
        names = {str(model._meta.verbose_name), str(model._meta.verbose_name_plural)}
    assert count.isdigit()
    assert name in names
