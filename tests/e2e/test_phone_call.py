"""A phone call from ring to booked visit without the mouse (issue #13, "Done when"): the
telephony webhook announces the call, the desk's caller panel shows the caller's card, and the
registrar books for the caller at the first free time with four keys (b, f, Enter, Enter); the
visit is on the board and the patient's message about it is in the outbox. Desk screenshots at
1280 and 1920 px (`tests.e2e.test_screenshots.save`: committed only with UPDATE_SCREENSHOTS=1)."""

import datetime

import pytest

from notifications.models import OutboxMessage
from scheduling.models import Appointment
from scheduling.services.reminders import reminders_enqueue_due
from telephony.models import LineAnswerer, TelephonyAccount, TelephonyLine
from tests.e2e.test_caller_id import SECRET, send_event
from tests.e2e.test_desk import caller, desk_clinic, registrar, sign_in_page  # noqa: F401
from tests.e2e.test_screenshots import save
from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def line(desk_clinic, registrar):  # noqa: F811
    account = TelephonyAccount.objects.create(name="Asterisk", provider="generic", secret=SECRET)
    number = TelephonyLine.objects.create(
        account=account, clinic=desk_clinic, name="Регистратура", number="+73952000000"
    )
    LineAnswerer.objects.create(line=number, user=registrar, extension="101")
    return account


@pytest.fixture
def doctors(desk_clinic):  # noqa: F811
    service = ServiceFactory(name="Приём терапевта первичный", duration_minutes=30)
    people = []
    for _ in range(3):
        doctor = DoctorFactory(services=[service], clinics=[desk_clinic])
        make_weekly_schedule(doctor, desk_clinic, start=datetime.time(8), end=datetime.time(20))
        people.append(doctor)
    return people


@pytest.mark.parametrize("width", [1280, 1920])
def test_a_call_is_booked_from_ring_to_visit_with_the_keyboard_only(
    browser,
    live_server,
    desk_clinic,  # noqa: F811
    registrar,  # noqa: F811
    caller,  # noqa: F811
    line,
    doctors,
    width,
):
    page = sign_in_page(browser, live_server, registrar, viewport=(width, 1000))
    page.goto("/desk/")
    page.wait_for_selector("#caller-panel .caller-idle")
    event = {
        "event_id": f"ring-{width}",
        "call_id": f"call-{width}",
        "state": "ringing",
        "from": caller.phone,
        "to": "+73952000000",
        "extension": "101",
    }
    assert send_event(live_server, line, event) == 200
    card = page.wait_for_selector("#caller-panel .caller-card", timeout=20_000)
    assert caller.last_name in card.inner_text()
    save(page, f"desk-call-{width}")

    keys = []

    def press(key: str) -> None:
        keys.append(key)
        page.keyboard.press(key)

    press("b")  # book for the caller: the board with their name on it
    page.wait_for_url(f"**/desk/?**patient={caller.public_id}**")
    press("f")  # the first free time
    assert "dk-free" in page.evaluate("document.activeElement.className")
    press("Enter")
    page.wait_for_url("**/desk/book/**")
    assert page.evaluate("document.activeElement.id") == "book-submit"
    press("Enter")
    page.wait_for_url("**/desk/?**")
    appointment = Appointment.objects.get(patient=caller)
    assert appointment.channel == "phone" and appointment.booked_by == registrar
    assert page.locator(f"#appt-{appointment.public_id}").is_visible()
    assert len(keys) <= 4, keys
    save(page, f"desk-call-booked-{width}")

    # The message about the visit waits in the outbox for the patient (a visit today: its
    # reminder is due at once), never sent in the request.
    reminders_enqueue_due()
    assert OutboxMessage.objects.filter(patient=caller).exists()
