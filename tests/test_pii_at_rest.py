"""No plaintext personal data in any table, cache entry, broker message or log line.

One scenario goes through every write path over HTTP: e-mail sign-up with a phone confirmed
by SMS code, onboarding, sign-in by phone code, consent signing by SMS code, booking and
cancellation with a reason, idempotent patient creation by a registrar (replayed), booking,
moving and rolling back for that patient with a reason, staff search (one refused because it
came in the address) and card views. Then
every text, varchar and JSON column of every table is read with raw SQL and searched for
each value of the scenario in every spelling it could have (phones with and without
separators, dates in ISO and Russian form, e-mail addresses and their local parts). Values
are also searched inside base64 and zlib (signed session data, broker messages) and JSON
escapes. The only allowed place for a value is the login e-mail in the columns allauth and
Django need it in.

With REDIS_URL set, the cache of the scenario is Redis and Celery publishes to it (no worker
takes the messages), and every key of that Redis database is searched the same way.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import io
import json
import logging
import os
import re
import uuid
import zlib
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from notifications.models import OutboxMessage
from portal.consent_texts import ensure_consent_documents
from portal.logging import PiiScrubFilter
from portal.models import Clinic, Patient
from tests.mail import sent_mails
from tests.portal.auth.conftest import STRONG_PASSWORD
from tests.scheduling.api.builders import make_doctor, make_rule, make_service, make_specialty

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL", "")

# The patient who signs up (A) and the one a registrar registers (B).
LOGIN_EMAIL = "varvara.signup@example.test"
A = {
    "last_name": "Кукушкина",
    "first_name": "Варвара",
    "middle_name": "Олеговна",
    "birth_date": "1979-08-23",
    "phone": "+79145550101",
}
B = {
    "last_name": "Белозерская",
    "first_name": "Ефросинья",
    "middle_name": "Карповна",
    "birth_date": "1962-11-05",
    "phone": "8 (914) 555-02-02",
    "email": "efrosinya.b@example.test",
    "address": "Иркутск, ул. Лермонтова, 83",
    "id_document_type": "passport_ru",
    "id_document_number": "2511 654321",
    "snils": "112-233-445 95",
    "oms_policy": "3850120812345678",
}
CANCEL_REASON = "Госпитализация в кардиологию"
ROLLBACK_REASON = "Ошибочная запись: перепутали Белозерскую"
IDEMPOTENCY_KEY = "create Белозерская 1962-11-05"

NEEDLES = {
    "A last name": "Кукушкина",
    "A first name": "Варвара",
    "A middle name": "Олеговна",
    "A birth date": "1979-08-23",
    "A birth date (ru)": "23.08.1979",
    "A phone": "9145550101",
    "A phone (formatted)": "555-01-01",
    "A phone (spaced)": "555 01 01",
    "A login e-mail": LOGIN_EMAIL,
    "A login e-mail (local part)": "varvara.signup",
    "B last name": "Белозерская",
    "B last name (stem)": "Белозерск",
    "B first name": "Ефросинья",
    "B middle name": "Карповна",
    "B birth date": "1962-11-05",
    "B birth date (ru)": "05.11.1962",
    "B phone": "9145550202",
    "B phone (formatted)": "555-02-02",
    "B phone (spaced)": "555 02 02",
    "B e-mail": "efrosinya.b@example.test",
    "B e-mail (local part)": "efrosinya",
    "B address": "Лермонтова",
    "B document": "2511 654321",
    "B document (digits)": "2511654321",
    "B SNILS": "112-233-445 95",
    "B SNILS (digits)": "11223344595",
    "B OMS policy": "3850120812345678",
    "cancellation reason": "кардиологию",
    "rollback reason": "Ошибочная запись",
}
# Where a value may be kept in clear: allauth and Django sign in by the login e-mail.
ALLOWED = {
    ("account_emailaddress", "email"): {"A login e-mail", "A login e-mail (local part)"},
    ("portal_user", "email"): {"A login e-mail", "A login e-mail (local part)"},
}

_B64 = re.compile(r"[A-Za-z0-9+/_=-]{16,}")


# --- Reading everything as text ------------------------------------------------------------


def expand(text: str, depth: int = 2) -> str:
    """`text` and what may hide inside it: base64 (urlsafe or not, e.g. signed session data
    and broker bodies), zlib-compressed payloads, JSON with escaped non-ASCII letters."""
    parts = [text]
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"'):
        with contextlib.suppress(ValueError):
            parts.append(json.dumps(json.loads(stripped), ensure_ascii=False))
    if depth:
        for run in _B64.findall(text):
            for chunk in run.lstrip(".").split(":"):
                decoded = _b64(chunk)
                if decoded is None:
                    continue
                with contextlib.suppress(zlib.error):
                    decoded = zlib.decompress(decoded)
                parts.append(expand(decoded.decode("utf-8", "ignore"), depth - 1))
    return "\n".join(parts)


def _b64(chunk: str) -> bytes | None:
    padded = chunk + "=" * (-len(chunk) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            return decode(padded)
        except (binascii.Error, ValueError):
            continue
    return None


def leaks(text: str) -> set[str]:
    found = expand(text).casefold()
    return {name for name, needle in NEEDLES.items() if needle.casefold() in found}


def text_columns() -> list[tuple[str, str]]:
    """(table, column) of every text, varchar and JSON column of every table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema()"
                " AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')"
                " ORDER BY table_name, column_name"
            )
            return list(cursor.fetchall())
    columns = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = column.type_code.lower()
                if any(word in kind for word in ("char", "text", "clob", "json")):
                    columns.append((table, column.name))
    return columns


def read_column(table: str, column: str) -> list[str]:
    name, col = connection.ops.quote_name(table), connection.ops.quote_name(column)
    cast = f"CAST({col} AS text)" if connection.vendor == "postgresql" else col
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cast} FROM {name} WHERE {col} IS NOT NULL")  # noqa: S608
        return [str(value) for (value,) in cursor.fetchall()]


def redis_entries(client) -> dict[str, str]:
    entries = {}
    for raw_key in client.scan_iter(count=500):
        key = raw_key.decode("utf-8", "ignore")
        kind = client.type(raw_key).decode()
        if kind == "string":
            values = [client.get(raw_key) or b""]
        elif kind == "list":
            values = client.lrange(raw_key, 0, -1)
        elif kind == "hash":
            values = [b"%s=%s" % pair for pair in client.hgetall(raw_key).items()]
        elif kind == "set":
            values = list(client.smembers(raw_key))
        elif kind == "zset":
            values = client.zrange(raw_key, 0, -1)
        else:
            values = []
        entries[key] = key + "\n" + "\n".join(v.decode("utf-8", "ignore") for v in values)
    return entries


# --- The scenario --------------------------------------------------------------------------


@pytest.fixture
def console_log():
    """Everything the project's filtered console handler writes during the scenario."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PiiScrubFilter) for f in h.filters)
    ]
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


@pytest.fixture
def shared_stores():
    """With REDIS_URL: the cache on Redis and Celery publishing to it, as in production."""
    if not REDIS_URL:
        yield None
        return
    import redis

    from config.celery import app

    prefix = f"medfront-pii-{uuid.uuid4().hex[:8]}"
    saved = {
        key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")
    }
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL, task_default_queue=prefix)
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "KEY_FUNCTION": "portal.crypto.cache_key",
        }
    }
    client = redis.Redis.from_url(REDIS_URL)
    try:
        with override_settings(CACHES=caches):
            yield client, prefix
    finally:
        app.conf.update(saved)
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)


def _json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def _code(event: str) -> str:
    return OutboxMessage.objects.filter(event=event).latest("id").context["code"]


@pytest.fixture
def bookable(clinic_a):
    specialty = make_specialty(slug="therapist", name="Терапевт")
    service = make_service(specialty=specialty, code="therapist-visit", duration=30)
    doctor = make_doctor(service=service, clinics=[clinic_a], last_name="Петрова")
    for weekday in range(7):
        make_rule(doctor=doctor, clinic=clinic_a, weekday=weekday)
    day = datetime.datetime.now(zoneinfo.ZoneInfo(clinic_a.timezone)).date()
    day += datetime.timedelta(days=2)

    def at(hour: int) -> str:
        return datetime.datetime.combine(
            day, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(clinic_a.timezone)
        ).isoformat()

    return {"service": str(service.public_id), "doctor": str(doctor.public_id), "at": at}


def run_scenario(registrar, bookable, django_capture_on_commit_callbacks) -> None:
    ensure_consent_documents()
    with django_capture_on_commit_callbacks(execute=True):
        # E-mail sign-up with a phone confirmed by SMS code, e-mail confirmation, onboarding.
        a = Client()
        signed_up = a.post(
            "/accounts/signup/",
            {
                "email": LOGIN_EMAIL,
                "phone": "8 914 555 01 01",
                "password1": STRONG_PASSWORD,
                "password2": STRONG_PASSWORD,
            },
        )
        assert signed_up.status_code == 302
        assert (
            a.post("/accounts/phone/verify/", {"code": _code("auth.verify_phone")}).status_code
            == 302
        )
        link = re.search(r"https?://testserver(/accounts/[^\s]+/)", sent_mails()[-1].body).group(1)
        assert a.post(link).status_code == 302
        welcome = a.post(
            "/me/welcome/",
            {
                **A,
                "sex": "female",
                "phone": "8 (914) 555-01-01",
                "home_clinic": Clinic.objects.get().pk,
            },
        )
        assert welcome.status_code == 302, welcome.content.decode()[:2000]
        patient_a = Patient.objects.get(user__email=LOGIN_EMAIL)
        assert patient_a.phone == A["phone"] and patient_a.phone_verified_at is not None

        # Sign-in by phone with an SMS code, in a fresh browser.
        a = Client()
        assert a.post("/accounts/login/code/", {"phone": "+7 914 555-01-01"}).status_code == 302
        confirmed = a.post("/accounts/login/code/confirm/", {"code": _code("auth.login_code")})
        assert confirmed.status_code == 302
        assert a.session.get("_auth_user_id") == str(patient_a.user_id)

        # Consent signed with an SMS code.
        consent = f"/me/consents/{patient_a.public_id}/advertising/"
        assert a.post(consent, {"action": "send"}).status_code == 302
        signed = a.post(
            consent, {"action": "confirm", "agree": "on", "code": _code("consent.sign_code")}
        )
        assert signed.status_code == 302
        assert patient_a.consents.filter(purpose="advertising").exists()

        # Booking (idempotent) and cancellation with a reason, by the patient.
        booking = {"service": bookable["service"], "doctor": bookable["doctor"]}
        booked = _json(
            a,
            "/api/v1/appointments/",
            {**booking, "start": bookable["at"](10)},
            HTTP_IDEMPOTENCY_KEY=f"book {A['last_name']}",
        )
        assert booked.status_code == 201, booked.json()
        cancelled = _json(
            a, f"/api/v1/appointments/{booked.json()['id']}/cancel/", {"reason": CANCEL_REASON}
        )
        assert cancelled.status_code == 200, cancelled.json()

        # A registrar registers B (idempotent, replayed), books, moves and rolls back.
        desk = APIClient()
        desk.force_authenticate(registrar)
        headers = {"HTTP_IDEMPOTENCY_KEY": IDEMPOTENCY_KEY}
        created = desk.post("/api/v1/patients/", B, format="json", **headers)
        assert created.status_code == 201, created.json()
        replayed = desk.post("/api/v1/patients/", B, format="json", **headers)
        assert replayed["Idempotent-Replayed"] == "true"
        patient_b = created.json()["id"]
        booked_b = desk.post(
            "/api/v1/appointments/",
            {**booking, "start": bookable["at"](11), "patient": patient_b, "channel": "phone"},
            format="json",
        )
        assert booked_b.status_code == 201, booked_b.json()
        visit = f"/api/v1/appointments/{booked_b.json()['id']}"
        moved = desk.post(f"{visit}/reschedule/", {"start": bookable["at"](12)}, format="json")
        assert moved.status_code == 200, moved.json()
        rolled_back = desk.post(f"{visit}/rollback/", {"reason": ROLLBACK_REASON}, format="json")
        assert rolled_back.status_code == 200, rolled_back.json()

        # Staff reads: a search sent in the address (refused, and logged), the search in the
        # body, the card (API and page).
        assert desk.get("/api/v1/patients/", {"phone": B["phone"]}).status_code == 400
        found = desk.post("/api/v1/patients/search/", {"phone": B["phone"]}, format="json")
        assert [p["id"] for p in found.json()] == [patient_b]
        assert desk.get(f"/api/v1/patients/{patient_b}/").status_code == 200
        from tests.conftest import client_for

        assert client_for(registrar).get(f"/staff/patients/{patient_b}/").status_code == 200


# The scenario asks for several codes to one phone within a minute; the pause between codes
# (portal.services.code_limits) has tests of its own.
@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0))
def test_no_store_keeps_any_value_of_the_scenario_in_clear(
    registrar_a, bookable, console_log, shared_stores, django_capture_on_commit_callbacks
):
    run_scenario(registrar_a, bookable, django_capture_on_commit_callbacks)

    columns = text_columns()
    # The walk is no walk if it missed the tables that hold the scenario's data.
    tables = {table for table, _column in columns}
    assert {
        "portal_patient",
        "portal_idempotencyrecord",
        "django_session",
        "notifications_outboxmessage",
        "scheduling_appointment",
        "scheduling_appointmentevent",
        "scheduling_rollbackrecord",
        "portal_consent",
        "portal_auditevent",
        "account_emailaddress",
    } <= tables
    found = {}
    for table, column in columns:
        for value in read_column(table, column):
            leaked = leaks(value) - ALLOWED.get((table, column), set())
            if leaked:
                found.setdefault(f"{table}.{column}", set()).update(leaked)
    assert not found, f"plaintext personal data at rest: {found}"

    logged = console_log.getvalue()
    assert "Bad Request: /api/v1/patients/" in logged, "is the console handler captured?"
    assert not leaks(logged), f"personal data in the log: {leaks(logged)}"

    if shared_stores is not None:
        client, prefix = shared_stores
        # The walk is no walk without the outbox dispatcher's message and the cache entries.
        assert client.llen(prefix) >= 1, "no broker message in the scenario's queue"
        entries = redis_entries(client)
        assert any(name.startswith(f"{prefix}:") for name in entries), "no cache entry"
        in_redis = {key: leaks(text) for key, text in entries.items() if leaks(text)}
        assert not in_redis, f"personal data in Redis: {in_redis}"


def test_the_needles_are_found_where_they_are_in_clear():
    """The search itself works: a value in clear, in base64, in a signed compressed payload
    or behind JSON escapes is found."""
    from django.core import signing

    assert leaks("Пациентка Кукушкина") == {"A last name"}
    assert "B phone" in leaks(base64.b64encode(b"+79145550202").decode())
    signed = signing.dumps({"note": "Лермонтова " * 20}, compress=True)
    assert "B address" in leaks(signed)
    assert "B first name" in leaks(json.dumps({"name": "Ефросинья"}))
    assert settings.FIELD_ENCRYPTION_KEYS  # encrypted values are searched as stored
