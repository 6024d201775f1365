"""`manage.py seed_demo`: the demo network, its logins, and a second run that changes nothing."""

import datetime
import io
import re
import sys
import types

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from portal.choices import AuditAction, FamilyRelation, LegalBasis, Role
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD
from portal.management.commands import seed_demo as seed_demo_command
from portal.models import AuditEvent, Clinic, FamilyLink, Patient, StaffMembership, User
from portal.services.family import majority_date
from portal.validators import validate_snils

pytestmark = pytest.mark.django_db

PATIENTS = 40


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--patients", str(PATIENTS), "--quiet", *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def portal_only(monkeypatch):
    """The portal side alone: other apps' seeders are tested in their own suites (and the
    whole network once below), and seeding a year of visits in every test would be slow."""
    monkeypatch.setattr(seed_demo_command, "_app_seeders", lambda: iter(()))


@pytest.fixture
def seeded(portal_only):
    with override_settings(DEBUG=True):
        return seed()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


@override_settings(DEBUG=False)
def test_it_refuses_to_run_with_debug_off(portal_only):
    before = row_counts()
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert row_counts() == before


@override_settings(DEBUG=False)
def test_it_seeds_with_debug_off_when_forced(portal_only):
    seed("--force")
    assert User.objects.filter(email__in=DEMO_LOGINS.values()).count() == len(DEMO_LOGINS)


def test_it_refuses_a_negative_patient_count():
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="--patients"):
        call_command("seed_demo", "--patients", "-1", stdout=io.StringIO())


def test_it_creates_three_clinics_in_irkutsk_and_moscow_time(seeded):
    clinics = {c.slug: c for c in Clinic.objects.select_related("legal_entity")}
    assert set(clinics) == {"irkutsk-centre", "irkutsk-levoberezhny", "moscow-arbat"}
    assert clinics["irkutsk-centre"].name == "Медфронт на Карла Маркса"
    assert {c.timezone for c in clinics.values()} == {"Asia/Irkutsk", "Europe/Moscow"}
    assert clinics["moscow-arbat"].timezone == "Europe/Moscow"
    assert len({c.legal_entity_id for c in clinics.values()}) == 2
    for clinic in clinics.values():
        assert clinic.phone.startswith("+7")
        assert clinic.address and clinic.opening_hours and clinic.registry_id


def test_every_demo_login_has_the_published_password_and_a_verified_email(seeded):
    users = {u.email: u for u in User.objects.filter(email__in=DEMO_LOGINS.values())}
    assert set(users) == set(DEMO_LOGINS.values())
    for user in users.values():
        assert user.is_demo
        assert user.is_active
        assert user.check_password(DEMO_PASSWORD)
        assert EmailAddress.objects.filter(
            user=user, email=user.email, verified=True, primary=True
        ).exists()
    staff = [u for email, u in users.items() if email != DEMO_LOGINS["patient"]]
    assert all(re.search("[А-Яа-я]", u.display_name) for u in staff)


def test_demo_staff_hold_their_roles_in_their_clinics(seeded):
    held = {
        (m.user.email, m.role, m.clinic.slug if m.clinic else None)
        for m in StaffMembership.objects.select_related("user", "clinic")
    }
    assert held == {
        ("registrar@demo.test", Role.REGISTRAR, "irkutsk-centre"),
        ("registrar@demo.test", Role.REGISTRAR, "moscow-arbat"),
        ("nurse@demo.test", Role.HEAD_NURSE, "irkutsk-centre"),
        ("doctor@demo.test", Role.DOCTOR, "irkutsk-centre"),
        ("clinicadmin@demo.test", Role.CLINIC_ADMIN, "irkutsk-centre"),
        ("marketer@demo.test", Role.MARKETER, None),
        ("director@demo.test", Role.DIRECTOR, None),
        ("netadmin@demo.test", Role.NETWORK_ADMIN, None),
    }


def test_the_demo_patient_has_a_profile_and_two_dependant_children(seeded):
    me = Patient.objects.get(user__email=DEMO_LOGINS["patient"])
    assert me.email == DEMO_LOGINS["patient"]
    assert re.fullmatch(r"\+79\d{9}", me.phone)
    links = list(FamilyLink.objects.filter(guardian=me).select_related("dependant"))
    assert len(links) == 2
    for link in links:
        assert link.relation == FamilyRelation.CHILD
        assert link.legal_basis == LegalBasis.PARENT_OF_MINOR
        assert link.dependant.birth_date > me.birth_date.replace(year=me.birth_date.year + 18)
    assert {link.dependant.sex for link in links} == {"male", "female"}


def test_a_parents_link_to_a_minor_ends_before_the_18th_birthday_as_real_ones_do(seeded):
    links = FamilyLink.objects.filter(legal_basis=LegalBasis.PARENT_OF_MINOR).select_related(
        "dependant"
    )
    assert links
    for link in links:
        assert link.valid_until == majority_date(link.dependant.birth_date) - datetime.timedelta(
            days=1
        )


def test_patients_are_generated_with_russian_and_english_names_and_mobile_phones(seeded):
    patients = list(Patient.objects.all())
    assert len(patients) == PATIENTS + 3  # the demo patient and her two children
    cyrillic = [p for p in patients if re.fullmatch("[А-ЯЁа-яё-]+", p.last_name)]
    latin = [p for p in patients if re.fullmatch("[A-Za-z' -]+", p.last_name)]
    assert len(cyrillic) + len(latin) == len(patients)
    assert cyrillic and latin
    assert len(cyrillic) > len(latin)
    phones = [p.phone for p in patients if p.phone]
    assert phones and all(re.fullmatch(r"\+79\d{9}", phone) for phone in phones)
    assert len(set(phones)) == len(phones)
    assert {p.home_clinic.slug for p in patients} == {
        "irkutsk-centre",
        "irkutsk-levoberezhny",
        "moscow-arbat",
    }
    # Blind indexes were computed although bulk_create skips save().
    for patient in patients:
        assert patient.compute_blind_indexes() == {
            name: getattr(patient, name) for name in Patient.BLIND_INDEX_FIELDS
        }
    assert FamilyLink.objects.exclude(guardian__user__email=DEMO_LOGINS["patient"]).exists()


def test_raw_rows_hold_no_plaintext_personal_data(seeded):
    me = Patient.objects.get(user__email=DEMO_LOGINS["patient"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_patient")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
        cursor.execute("SELECT display_name FROM portal_user")
        raw_users = " ".join(str(row[0]) for row in cursor.fetchall())
    for value in (me.last_name, me.first_name, me.phone, me.email, me.address):
        assert value and value not in raw
    doctor = User.objects.get(email=DEMO_LOGINS["doctor"])
    assert doctor.display_name.split()[-1] not in raw_users


def test_every_created_patient_has_an_audit_event_with_field_names_only(seeded):
    patients = list(Patient.objects.all())
    events = AuditEvent.objects.filter(object_type="portal.patient", action=AuditAction.CREATE)
    assert sorted(e.object_id for e in events) == sorted(str(p.public_id) for p in patients)
    me = Patient.objects.get(user__email=DEMO_LOGINS["patient"])
    mine = events.get(object_id=str(me.public_id))
    assert {"last_name", "phone", "email"} <= set(mine.changed_fields)
    assert me.phone not in str(mine.changed_fields)


def test_a_second_run_changes_nothing(seeded):
    before = row_counts()
    with override_settings(DEBUG=True), CaptureQueriesContext(connection) as queries:
        output = seed("--seed", "7", "--patients", "60")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", q["sql"], re.IGNORECASE)
    ]
    assert writes == []
    assert row_counts() == before
    assert "patient@demo.test" in output


def test_the_output_lists_every_login_and_the_password(seeded):
    for email in DEMO_LOGINS.values():
        assert email in seeded
    assert DEMO_PASSWORD in seeded


@override_settings(DEBUG=True, MFA_EXEMPT_DEMO_STAFF=True)
@pytest.mark.parametrize("key", list(DEMO_LOGINS))
def test_each_demo_login_signs_in_and_lands_on_a_page(seeded, key):
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"login": DEMO_LOGINS[key], "password": DEMO_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.is_authenticated
    assert response.wsgi_request.user.email == DEMO_LOGINS[key]
    final = response.redirect_chain[-1][0] if response.redirect_chain else ""
    assert "/accounts/" not in final


def test_some_patients_carry_a_snils_with_a_valid_check_number(seeded):
    numbers = [p.snils for p in Patient.objects.all() if p.snils]
    assert numbers
    assert all(validate_snils(number) == number for number in numbers)


def test_it_calls_each_app_seeder_with_the_seeded_network(monkeypatch):
    calls = []

    def fake_seed(ctx):
        calls.append(
            {
                "clinics": sorted(ctx.clinics),
                "users": sorted(ctx.users),
                "patients": len(ctx.patients),
                "dependants": len(ctx.dependants),
                "demo_patient": ctx.demo_patient.user.email,
            }
        )

    monkeypatch.setattr(seed_demo_command, "_app_seeders", lambda: iter([("analytics", fake_seed)]))
    with override_settings(DEBUG=True):
        seed()
        seed()
    expected = {
        "clinics": ["irkutsk-centre", "irkutsk-levoberezhny", "moscow-arbat"],
        "users": sorted(DEMO_LOGINS),
        "patients": PATIENTS + 3,
        "dependants": 2,
        "demo_patient": DEMO_LOGINS["patient"],
    }
    # Seeders are idempotent themselves, so they run again on the second pass.
    assert calls == [expected, expected]


def test_it_finds_each_project_apps_demo_seeder_in_installed_apps_order(monkeypatch):
    module = types.ModuleType("analytics.demo")
    module.seed = lambda ctx: None
    monkeypatch.setitem(sys.modules, "analytics.demo", module)
    found = list(seed_demo_command._app_seeders())
    labels = [label for label, _seed in found]
    order = [config.label for config in apps.get_app_configs()]
    assert labels[-1] == "analytics"
    assert found[-1][1] is module.seed
    assert "portal" not in labels
    assert labels == sorted(labels, key=order.index)
    # Only the project's own apps are asked, never third-party packages.
    assert not {"admin", "auth", "account", "mfa", "guardian"} & set(labels)


def test_a_second_run_of_the_whole_network_changes_nothing():
    with override_settings(DEBUG=True):
        seed()
        before = row_counts()
        with CaptureQueriesContext(connection) as queries:
            seed()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", q["sql"], re.IGNORECASE)
    ]
    assert writes == []
    assert row_counts() == before
