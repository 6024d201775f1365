"""Personas shared by every suite (STYLE.md): patients, registrars of two clinics, a doctor,
a director, a network admin, anonymous."""

import datetime

import pytest
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import Client
from django.utils import translation

from portal.auth.policy import mark_session_mfa_set_up
from portal.choices import Role
from tests.factories import (
    ClinicFactory,
    FamilyLinkFactory,
    PatientFactory,
    PatientWithLoginFactory,
    make_staff,
)


@receiver(connection_created)
def _allow_flushing_audit_tables(sender, connection, **kwargs):
    """Transactional tests end with a TRUNCATE of every table, and the audit tables' trigger
    refuses TRUNCATE unless the session opts in (portal migration 0004)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET medfront.audit_truncate = 'allow'")


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests skip themselves on any other database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Lockout counters and code limits live in the cache (one per test process): each test
    starts with none, whatever an earlier test in the process counted."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request of an earlier test in the same
    process leaves its language active (LocaleMiddleware does not reset it), and services that
    fall back to the active language would depend on which test ran before."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_requests_counted():
    """Rate limits count in the cache (LocMem in tests, one per process): each test starts with
    nothing counted, whatever ran before it in the same worker."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clinic_a(db):
    return ClinicFactory(slug="irkutsk-centre", name="Медфронт Центр", timezone="Asia/Irkutsk")


@pytest.fixture
def clinic_b(db):
    return ClinicFactory(
        slug="moscow-arbat", name="Медфронт Арбат", city="Москва", timezone="Europe/Moscow"
    )


@pytest.fixture
def patient(db):
    """A patient with a login and one dependant child."""
    me = PatientWithLoginFactory(
        last_name="Иванова", first_name="Анна", middle_name="Сергеевна", sex="female"
    )
    child = PatientFactory(
        last_name="Иванов",
        first_name="Миша",
        middle_name="Петрович",
        birth_date=datetime.date(2017, 5, 14),
    )
    FamilyLinkFactory(guardian=me, dependant=child)
    return me


@pytest.fixture
def dependant(patient):
    return patient.dependant_links.get().dependant


@pytest.fixture
def other_patient(db):
    return PatientWithLoginFactory(last_name="Smith", first_name="John")


@pytest.fixture
def registrar_a(clinic_a):
    return make_staff(Role.REGISTRAR, clinic_a, email="registrar-a@example.test")


@pytest.fixture
def registrar_b(clinic_b):
    return make_staff(Role.REGISTRAR, clinic_b, email="registrar-b@example.test")


@pytest.fixture
def doctor_a(clinic_a):
    return make_staff(Role.DOCTOR, clinic_a, email="doctor-a@example.test")


@pytest.fixture
def head_nurse_a(clinic_a):
    return make_staff(Role.HEAD_NURSE, clinic_a, email="nurse-a@example.test")


@pytest.fixture
def clinic_admin_a(clinic_a):
    return make_staff(Role.CLINIC_ADMIN, clinic_a, email="clinicadmin-a@example.test")


@pytest.fixture
def marketer(db):
    return make_staff(Role.MARKETER, None, email="marketer@example.test")


@pytest.fixture
def director(db):
    return make_staff(Role.DIRECTOR, None, email="director@example.test")


@pytest.fixture
def network_admin(db):
    return make_staff(Role.NETWORK_ADMIN, None, email="netadmin@example.test")


def client_for(user) -> Client:
    """A test client signed in as `user` (MFA and idle checks see a fresh staff session).

    Staff get an authenticator app first, and the session is marked as having passed it, as
    every real staff session must (`StaffMfaRequiredMiddleware`); tests of that rule sign in
    with `Client.force_login` or through the sign-in pages.
    """
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from portal.models import StaffMembership

    is_staff = user.is_staff or StaffMembership.objects.filter(user_id=user.pk).exists()
    if is_staff and not Authenticator.objects.filter(user_id=user.pk, type="totp").exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client()
    client.force_login(user)
    session = client.session
    mark_session_mfa_set_up(session, user)
    session.save()
    return client


@pytest.fixture
def as_user():
    return client_for
