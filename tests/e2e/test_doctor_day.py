"""The doctor's day in a browser at a desk's width: visits in two clinics and zones, one visit
completed with a click, a note written and shown to the patient."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.choices import Role
from scheduling.choices import AppointmentStatus
from scheduling.models import VisitSummary
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import (
    appointment_book,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
)
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    StaffMembershipFactory,
    make_weekly_schedule,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TUE = datetime.date(2027, 3, 2)
# Monday 1 March 2027, 08:00 in Irkutsk: every slot of Tuesday may still be booked.
BOOKING_TIME = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.UTC)
# Tuesday 2 March 2027, 10:05 in Irkutsk (05:05 in Moscow): the doctor's working morning.
DAY_TIME = datetime.datetime(2027, 3, 2, 2, 5, tzinfo=datetime.UTC)


def test_the_doctors_day_at_1280_px(
    browser, live_server, monkeypatch, doctor_a, clinic_a, clinic_b, registrar_a, patient
):
    now = [BOOKING_TIME]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    service = ServiceFactory(name="Приём терапевта первичный", duration_minutes=30)
    doctor = DoctorFactory(user=doctor_a, services=[service], clinics=[clinic_a, clinic_b])
    StaffMembershipFactory(user=doctor_a, role=Role.DOCTOR, clinic=clinic_b)
    make_weekly_schedule(doctor, clinic_a)
    make_weekly_schedule(doctor, clinic_b, start=datetime.time(15), end=datetime.time(17))
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    irkutsk = [s for s in slots if s.start.astimezone(clinic_a.tz).hour < 13]
    moscow = [s for s in slots if s.start.astimezone(clinic_b.tz).hour >= 15]
    people = [patient, *(PatientFactory() for _ in range(4))]
    visits = []
    for person, slot in zip(people, [*irkutsk[:3], irkutsk[4], moscow[0]], strict=True):
        visits.append(
            appointment_book(
                patient=person,
                doctor=doctor,
                service=service,
                start=slot.start,
                channel="phone",
                actor=registrar_a,
            )
        )
    appointment_confirm(appointment=visits[2], actor=registrar_a)
    now[0] = DAY_TIME
    appointment_check_in(appointment=visits[0], actor=registrar_a)
    appointment_complete(appointment=visits[0], actor=registrar_a)
    appointment_check_in(appointment=visits[1], actor=registrar_a)

    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 900}
    )
    session = client_for(doctor_a).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(reverse("portal:home"))
    page.get_by_role("link", name="Мой день").first.click()
    page.wait_for_url("**/doctor/**")
    assert page.locator("h1").inner_text().startswith("Вт, 2 марта 2027")
    assert page.locator("article.agenda-clinic").count() == 2
    text = page.locator("body").inner_text()
    assert "Иркутск, UTC+8" in text  # the reader's zone is Moscow's: Irkutsk is labelled
    assert patient.full_name in text

    # The checked-in patient is done: one click, and the row turns green.
    row = page.locator("tr", has_text=visits[1].patient.full_name)
    row.get_by_role("button", name="Завершить приём").click()
    page.wait_for_load_state()
    assert "Приём отмечен как завершённый." in page.locator("body").inner_text()
    row = page.locator("tr", has_text=visits[1].patient.full_name)
    assert "status-completed" in (row.get_attribute("class") or "")

    # A note for the first patient, shown to them.
    page.locator("tr", has_text=patient.full_name).get_by_role(
        "button", name="Написать заключение"
    ).click()
    page.get_by_label("Заключение для пациента").fill("Рекомендован покой три дня.")
    page.get_by_label("Показывать пациенту").check()
    page.get_by_role("button", name="Сохранить заключение").click()
    page.wait_for_url("**/doctor/?date=2027-03-02")
    assert VisitSummary.objects.get(appointment=visits[0]).visible_to_patient
    assert "Заключение видно пациенту" in page.locator("body").inner_text()

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "doctor-day-1280")
    page.get_by_role("link", name="Неделя", exact=True).click()
    page.wait_for_url("**view=week**")
    assert page.locator("section.agenda-day").count() == 7
    screenshot(page, "doctor-week-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("scheduling:doctor_day"))
    screenshot(page, "doctor-day-390")
    context.close()
    assert visits[1].__class__.objects.get(pk=visits[1].pk).status == AppointmentStatus.COMPLETED
