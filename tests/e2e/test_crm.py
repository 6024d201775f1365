"""The CRM in a browser: a visitor of a clinic's site (another origin, with the embed snippet)
sends the framed enquiry form, and the page's UTM tags and Metrica cookie ride along; the
marketer finds the lead in the list, opens its card and records the first call. Screenshots at
a phone's and a desktop's width."""

import http.server
import threading

import pytest

from crm.models import Lead
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic_site(live_server, clinic_a):
    """A clinic's own web page on another port, carrying the snippet the lead list shows."""
    snippet = (
        "<!doctype html><html><body><h1>Клиника</h1>"
        f'<div data-medfront-form data-clinic="{clinic_a.slug}"></div>'
        f'<script src="{live_server.url}/crm/embed.js"></script></body></html>'
    ).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Set-Cookie", "_ym_uid=1700000000123; Path=/")
            self.end_headers()
            self.wfile.write(snippet)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_enquiry_from_a_clinics_site_reaches_the_marketer(
    page, live_server, clinic_a, clinic_site, marketer
):
    errors = watch_console(page)
    page.goto(f"{clinic_site}/landing?utm_source=yandex&utm_campaign=checkup&yclid=42")
    form = page.frame_locator("iframe")
    form.locator("#id_name").fill("Алина")
    form.locator("#id_phone").fill("8 914 555 12 34")
    form.locator("#id_comment").fill("Хочу пройти check-up")
    screenshot(page, "crm-form-on-a-clinic-site")
    form.locator("button[type=submit]").click()
    form.locator("text=Спасибо").wait_for()
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_campaign, lead.yclid) == ("yandex", "checkup", "42")
    assert lead.ym_client_id == "1700000000123"
    assert lead.landing_url.startswith(f"{clinic_site}/landing?")
    assert lead.clinic == clinic_a

    session = client_for(marketer).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/crm/leads/")
        assert page.locator(".leads-table tbody tr").count() == 1
        screenshot(page, f"crm-leads-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the lead list scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("text=Алина")
    page.fill("#id_note", "Позвонила, записываем на пятницу")
    page.check("#id_contacted")
    page.click("form[action$='/note/'] button")
    page.wait_for_selector(".timeline >> text=Первый контакт")
    screenshot(page, "crm-lead-card")
    lead.refresh_from_db()
    assert lead.first_contacted_at is not None
    assert errors == []


def test_the_funnel_reads_well(page, live_server, clinic_a, marketer):
    """The funnel of the demo's leads and spend, at a desktop's and a phone's width."""
    import io
    import random

    from crm import demo
    from portal.demo import DemoContext

    demo.seed(
        DemoContext(
            clinics={"a": clinic_a},
            patients=[],
            users={"marketer": marketer},
            rng=random.Random(1),
            today=__import__("datetime").date.today(),
            stdout=io.StringIO(),
        )
    )
    session = client_for(marketer).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/crm/funnel/")
        assert page.locator(".funnel-table .funnel-source").count() >= 3
        screenshot(page, f"crm-funnel-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the funnel scrolls sideways at {width} px"


def test_tasks_on_a_lead_and_the_owners_list(page, live_server, clinic_a, marketer):
    """The marketer adds a follow-up on the lead card, sees an overdue one marked red in the
    list and ticks it off; the segments form has the age band. Both widths, no sideways scroll."""
    import datetime

    from django.utils import timezone

    from crm.choices import LeadSource
    from crm.services.leads import lead_create
    from crm.services.tasks import lead_task_add

    lead, _ = lead_create(
        source=LeadSource.CALL,
        actor=None,
        clinic=clinic_a,
        name="Вера Задачина",
        phone="+79145550101",
    )
    lead_task_add(
        lead=lead,
        text="Перезвонить после обеда",
        due_at=timezone.now() - datetime.timedelta(hours=3),
        owner=marketer,
        actor=marketer,
    )
    session = client_for(marketer).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/crm/leads/{lead.public_id}/")
    page.fill("#id_text", "Отправить памятку о подготовке к УЗИ")
    page.click("form.task-form button[type=submit]")
    page.wait_for_selector(".task-list >> text=Отправить памятку")
    assert page.locator(".task-list li.is-overdue").count() == 1
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/crm/leads/{lead.public_id}/")
        screenshot(page, f"crm-lead-tasks-{name}")
        page.goto(f"{live_server.url}/crm/tasks/")
        assert page.locator(".tasks-table tbody tr").count() == 2
        assert page.locator(".tasks-table tr.is-overdue").count() == 1
        screenshot(page, f"crm-tasks-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the task list scrolls sideways at {width} px"
        page.goto(f"{live_server.url}/crm/segments/")
        page.fill("main form #id_age_from", "30")
        page.fill("main form #id_age_to", "55")
        page.wait_for_selector("#segment-count >> text=пациент")
        screenshot(page, f"crm-segments-age-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the segments page scrolls sideways at {width} px"
    page.goto(f"{live_server.url}/crm/tasks/")
    page.locator(".tasks-table tr.is-overdue button").click()
    page.wait_for_selector(".tasks-table tbody tr >> nth=0")
    assert page.locator(".tasks-table tbody tr").count() == 1
