"""A connector clinic served by this same Medfront's `/fhir/R4/`, on a live server.

Clinic B ("the external system") keeps the schedule: its doctor works there every day. The
connector clinic has the same doctor's card of its own (no schedule here) mapped to clinic
B's Schedule; the connector signs in with a registrar of clinic B's API token.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from portal.choices import Role
from portal.services.api_tokens import api_token_issue
from scheduling.choices import BookingMode, ConnectorKind
from scheduling.fhir.ids import schedule_id
from scheduling.models import BookingPolicy, ClinicConnector
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)


@pytest.fixture
def connector_clinic(db):
    clinic = ClinicFactory(slug="zarechny", name="Медфронт Заречный", timezone="Europe/Moscow")
    BookingPolicy.objects.create(clinic=clinic, mode=BookingMode.CONNECTOR)
    return clinic


@pytest.fixture
def upstream_service(db):
    return ServiceFactory(code="therapist-first", name="Приём терапевта", duration_minutes=30)


@pytest.fixture
def upstream_doctor(clinic_b, upstream_service):
    """Works 09:00–13:00 Moscow time every day in clinic B (the external system)."""
    doctor = DoctorFactory(services=[upstream_service], clinics=[clinic_b])
    make_weekly_schedule(doctor, clinic_b)
    return doctor


@pytest.fixture
def local_doctor(connector_clinic, upstream_service):
    """The same doctor as the connector clinic shows them: no schedule rules here."""
    return DoctorFactory(services=[upstream_service], clinics=[connector_clinic])


@pytest.fixture
def upstream_token(clinic_b):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_staff(Role.REGISTRAR, clinic_b, email="integration@example.test")
    # Staff accounts use the API only with a second factor set up and passed at sign-in.
    TOTP.activate(user, generate_totp_secret())
    _, token = api_token_issue(user=user, user_agent="medfront-connector", mfa_verified=True)
    return token


def make_fhir_connector(
    clinic, *, base_url, local_doctor, upstream_doctor, upstream_clinic, secret
):
    return ClinicConnector.objects.create(
        clinic=clinic,
        kind=ConnectorKind.FHIR_R4,
        base_url=base_url,
        secret=secret,
        timeout_seconds=3,
        settings={
            "schedules": {
                str(local_doctor.public_id): schedule_id(
                    doctor_public_id=upstream_doctor.public_id,
                    clinic_public_id=upstream_clinic.public_id,
                )
            }
        },
    )


@pytest.fixture
def fhir_connector(
    live_server, connector_clinic, local_doctor, upstream_doctor, clinic_b, upstream_token
):
    return make_fhir_connector(
        connector_clinic,
        base_url=f"{live_server.url}/fhir/R4",
        local_doctor=local_doctor,
        upstream_doctor=upstream_doctor,
        upstream_clinic=clinic_b,
        secret=upstream_token,
    )


def tomorrow_range(clinic):
    day = timezone.now().astimezone(clinic.tz).date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=clinic.tz)
    return start, start + datetime.timedelta(days=1)


@pytest.fixture
def upstream():
    from .servers import Upstream

    server = Upstream().start()
    yield server
    server.stop()


@pytest.fixture
def closed_port():
    """An address where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir/R4"
