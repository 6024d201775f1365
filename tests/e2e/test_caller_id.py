"""Caller ID in a browser: a signed call event posted over HTTP shows the caller's card on the
registrar's open caller panel within a poll; an unknown number offers registration with the
number filled in."""

import datetime
import json
import time
import urllib.request

import pytest

from telephony.models import LineAnswerer, TelephonyAccount, TelephonyLine
from telephony.providers import generic
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import watch_console
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "e2e-secret"


@pytest.fixture
def account(clinic_a, registrar_a):
    account = TelephonyAccount.objects.create(name="Asterisk", provider="generic", secret=SECRET)
    line = TelephonyLine.objects.create(
        account=account, clinic=clinic_a, name="Регистратура", number="+73952000000"
    )
    LineAnswerer.objects.create(line=line, user=registrar_a, extension="101")
    return account


def send_event(live_server, account, payload) -> int:
    """POST the event as a telephony provider would: over HTTP, signed."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the live server's http address
        f"{live_server.url}/telephony/generic/{account.public_id}/events/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            generic.TIMESTAMP_HEADER: stamp,
            generic.SIGNATURE_HEADER: generic.sign(SECRET, stamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - live server
        return response.status


def open_calls_page(page, live_server, user):
    session = client_for(user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto("/telephony/calls/")
    page.wait_for_selector("#caller-panel .caller-idle")


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "mobile"])
def test_the_callers_card_appears_within_a_poll(page, live_server, account, registrar_a, viewport):
    PatientFactory(
        phone="+79145551234",
        last_name="Петрова",
        first_name="Ольга",
        birth_date=datetime.date(1990, 1, 1),
    )
    width, height = viewport
    page.set_viewport_size({"width": width, "height": height})
    errors = watch_console(page)
    open_calls_page(page, live_server, registrar_a)
    event = {
        "event_id": "e-1",
        "call_id": "c-1",
        "state": "ringing",
        "from": "+79145551234",
        "to": "+73952000000",
    }
    assert send_event(live_server, account, event) == 200
    card = page.wait_for_selector("#caller-panel .caller-card")
    assert "Петрова Ольга" in card.inner_text()
    screenshot(page, f"caller-id-{width}")
    page.locator("#caller-panel .caller-matches a").first.click()
    page.wait_for_url("**/staff/patients/**")
    assert "Петрова Ольга" in page.locator("h1").inner_text()
    assert errors == []


def test_a_new_caller_is_registered_with_the_number_filled_in(
    page, live_server, account, registrar_a
):
    open_calls_page(page, live_server, registrar_a)
    event = {
        "event_id": "e-2",
        "call_id": "c-2",
        "state": "ringing",
        "from": "+79145550000",
        "to": "+73952000000",
    }
    assert send_event(live_server, account, event) == 200
    page.wait_for_selector("#caller-panel .caller-register button").click()
    page.wait_for_url("**/staff/patients/new/")
    assert "79145550000" not in page.url
    assert page.locator("input[name=phone]").input_value() == "+79145550000"
    screenshot(page, "caller-id-new-caller")


def test_the_calls_page_lists_who_to_ring_back_and_closes_a_callback(
    page, live_server, account, registrar_a
):
    now = int(time.time())
    for index, (caller, states) in enumerate(
        [("+79145550001", ["ringing", "ended"]), ("+79145550002", ["ringing", "answered", "ended"])]
    ):
        for offset, state in enumerate(states):
            event = {
                "event_id": f"e-{index}-{state}",
                "call_id": f"c-{index}",
                "state": state,
                "from": caller,
                "to": "+73952000000",
                "extension": "101",
                "time": now - 60 + index * 20 + offset * 7,
            }
            assert send_event(live_server, account, event) == 200
    open_calls_page(page, live_server, registrar_a)
    assert page.locator("table").count() == 2
    assert "+7 914 555-00-01" in page.locator("section", has_text="Перезвонить").inner_text()
    screenshot(page, "calls-page-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "calls-page-390")
    page.get_by_role("button", name="Готово").click()
    page.wait_for_selector("text=Перезванивать некому.")
