"""Logs keep no personal data or secrets: addresses are masked in Django's request logs,
runserver's request lines and gunicorn's access log (`portal.logging`)."""

import contextlib
import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from portal.logging import AccessLogMaskFilter, PiiScrubFilter, mask_addresses

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+79145550011"
SECRET = "Zq8mW3kT0pLx7Rv2Nc5Hy"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        (f"/api/v1/calendar-feed/{SECRET}.ics", "/api/v1/calendar-feed/[secret].ics"),
        (
            f"https://clinic.example/api/v1/calendar-feed/{SECRET}.ics?x=1",
            "https://clinic.example/api/v1/calendar-feed/[secret].ics?[masked]",
        ),
        (
            "/accounts/password/reset/key/2s-c3k9x2-abc123/",
            "/accounts/password/reset/key/[secret]/",
        ),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        ("/accounts/confirm-email/MjA:1tXyz:abc/", "/accounts/confirm-email/[secret]/"),
        (
            f"/notifications/sms/smsru/{SECRET}/status/",
            "/notifications/sms/smsru/[secret]/status/",
        ),
        (f"/api/v1/patients/?phone={quote(PHONE)}", "/api/v1/patients/?[masked]"),
        ("/staff/patients/?q=Иванова+Анна+14.03.1985", "/staff/patients/?[masked]"),
        ("/staff/audit/?actor=registrar%40example.test&page=2", "/staff/audit/?[masked]"),
        ("/fhir/R4/Patient?name=Ivanova", "/fhir/R4/Patient?[masked]"),
        ("/admin/portal/user/?q=anna", "/admin/portal/user/?[masked]"),
        (
            "/api/v1/slots/?service=6f1c&start=2027-03-01&phone=89145550011",
            "/api/v1/slots/?service=6f1c&start=2027-03-01&[masked]",
        ),
        ("/fhir/R4/Slot?schedule=Schedule/1&start=ge2027-03-01", None),
        ("/api/v1/slots/?Иванова", "/api/v1/slots/?[masked]"),
        ("/healthz", None),
    ],
)
def test_addresses_lose_their_secrets_and_personal_query_values(address, masked):
    assert (
        mask_addresses(f'"GET {address} HTTP/1.1" 200') == f'"GET {masked or address} HTTP/1.1" 200'
    )


def test_phones_and_e_mails_in_messages_are_scrubbed():
    from portal.logging import scrub

    text = scrub("SMS to +7 914 555-00-11 failed; reply from anna.k@example.test")
    assert text == "SMS to [phone] failed; reply from [email]"


@pytest.fixture
def console_log():
    """What the project's console handler (the one with `PiiScrubFilter`) writes."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, PiiScrubFilter) for f in handler.filters)
    ]
    assert handlers, "LOGGING has no handler with PiiScrubFilter"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


def test_runserver_request_lines_are_masked(console_log):
    # What django.core.servers.basehttp logs for each request.
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /api/v1/calendar-feed/{SECRET}.ics?phone={PHONE} HTTP/1.1", 200, 10
    )
    written = console_log.getvalue()
    assert "/api/v1/calendar-feed/[secret].ics?[masked]" in written
    assert SECRET not in written and "9145550011" not in written


@pytest.mark.django_db
def test_a_wrong_feed_address_is_logged_without_its_secret(client, console_log):
    response = client.get(f"/api/v1/calendar-feed/{SECRET}.ics")
    assert response.status_code == 404
    written = console_log.getvalue()
    assert "Not Found: /api/v1/calendar-feed/[secret].ics" in written
    assert SECRET not in written


@pytest.mark.django_db
def test_a_search_sent_in_the_address_leaves_no_value_in_the_log(registrar_a, console_log):
    api = APIClient()
    api.force_authenticate(registrar_a)
    response = api.get("/api/v1/patients/", {"phone": PHONE, "name": "Иванова"})
    assert response.status_code == 400
    written = console_log.getvalue()
    assert "Bad Request: /api/v1/patients/" in written
    assert "9145550011" not in written and "Иванова" not in written


def test_gunicorn_access_atoms_are_masked_in_place():
    atoms = {
        "r": f"GET /api/v1/calendar-feed/{SECRET}.ics HTTP/1.1",
        "U": "/api/v1/patients/",
        "q": f"phone={quote(PHONE)}",
        "f": f"https://clinic.example/staff/patients/?q={quote(PHONE)}",
        "{x-original-uri}i": "/api/v1/slots/?service=1&email=anna%40example.test&page=2",
        "s": "200",
        "h": "10.0.0.1",
    }
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(r)s", None, None)
    record.args = atoms
    assert AccessLogMaskFilter().filter(record)
    assert atoms["r"] == "GET /api/v1/calendar-feed/[secret].ics HTTP/1.1"
    assert atoms["q"] == "[masked]"
    assert atoms["f"] == "https://clinic.example/staff/patients/?[masked]"
    assert atoms["{x-original-uri}i"] == "/api/v1/slots/?service=1&[masked]&page=2"
    assert (atoms["s"], atoms["h"]) == ("200", "10.0.0.1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers: str) -> None:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - local server
    # The answer does not matter here, only what is logged about the request.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=20).close()  # noqa: S310


def test_gunicorn_with_the_projects_config_logs_masked_access_lines(tmp_path):
    """A real gunicorn with `config/gunicorn.conf.py`. Its database is an empty SQLite file:
    requests that need data fail, and their access lines are written all the same."""
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.conf.py",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            f"--access-logfile={access}",
            f"--error-logfile={errors}",
            # Its control socket lives in the home directory: two test runs at once would share it.
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, errors.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        _get(f"{base}/api/v1/calendar-feed/{SECRET}.ics")
        _get(
            f"{base}/api/v1/patients/?phone={quote(PHONE)}&name={quote('Иванова')}",
            Referer=f"{base}/staff/patients/?q={quote(PHONE)}",
        )
        _get(f"{base}/api/v1/slots/?service=6f1c&email=anna%40example.test")
    finally:
        server.terminate()
        server.wait(timeout=20)
    logged = access.read_text() + errors.read_text()
    assert "/api/v1/calendar-feed/[secret].ics" in logged
    assert "/api/v1/patients/?[masked]" in logged
    assert "/api/v1/slots/?service=6f1c&[masked]" in logged
    for leak in (SECRET, "9145550011", "%2B7914", "Иванова", "%D0%98", "anna", "example.test"):
        assert leak not in logged, leak


def test_ids_that_contain_phone_like_digits_are_kept():
    from portal.logging import scrub

    text = "payment 1d889780-7736-4f1e-9c2a-0b5d3e7a9f10 not asked; order a1234567890b"
    assert scrub(text) == text
    assert scrub("reply from 8 (914) 555-00-11, id 42") == "reply from [phone], id 42"
