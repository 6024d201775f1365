"""Raw database rows carry no plaintext PII (DESIGN.md: "Raw DB rows show no PII")."""

import datetime

import pytest
from django.db import connection

from notifications.services import outbox_enqueue
from portal.services.patients import patient_create

pytestmark = pytest.mark.django_db

NEEDLES = {
    "last name": "Кузнецова",
    "first name": "Марфа",
    "phone": "9145557788",
    "e-mail": "marfa.k@example.test",
    "e-mail user": "marfa.k",
    "birth date (ISO)": "1985-03-14",
    "birth date (RU)": "14.03.1985",
    "SNILS": "112-233-445 95",
    "SNILS digits": "11223344595",
    "address": "Байкальская",
}


def _raw_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        return cursor.fetchall()


def _assert_no_plaintext(table):
    rows = _raw_rows(table)
    assert rows, f"{table} is empty: the test would prove nothing"
    text = " ".join(str(value) for row in rows for value in row)
    leaked = [name for name, needle in NEEDLES.items() if needle.lower() in text.lower()]
    assert not leaked, f"plaintext {leaked} found in {table}"


@pytest.fixture
def stored_patient():
    return patient_create(
        actor=None,
        last_name="Кузнецова",
        first_name="Марфа",
        birth_date=datetime.date(1985, 3, 14),
        phone="+7 914 555-77-88",
        email="Marfa.K@example.test",
        snils="112-233-445 95",
        address="Иркутск, ул. Байкальская, 1",
    )


def test_patient_rows_hold_no_plaintext_name_phone_email_birth_date_or_snils(stored_patient):
    assert stored_patient.snils == "112-233-445 95"
    _assert_no_plaintext("portal_patient")


def test_outbox_rows_hold_no_plaintext_address_or_context(stored_patient):
    outbox_enqueue(
        event="test.reminder",
        channel="sms",
        patient=stored_patient,
        context={"name": "Марфа Кузнецова", "birth": "14.03.1985"},
    )
    outbox_enqueue(
        event="test.reminder",
        channel="email",
        patient=stored_patient,
        context={"name": "Марфа Кузнецова"},
    )
    _assert_no_plaintext("notifications_outboxmessage")


def test_audit_rows_of_a_patient_change_hold_no_values(stored_patient):
    _assert_no_plaintext("portal_auditevent")
