"""The funnel on a fixed dataset, under both attributions; spend entry and import; the
offline-conversion export; who may see them."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import LeadSource
from crm.errors import LeadInvalid
from crm.models import AdSpend, Lead
from crm.selectors.exports import offline_conversions
from crm.selectors.funnel import funnel_report
from crm.services.activity import activity_rebuild
from crm.services.leads import lead_create
from crm.services.spend import ad_spend_add, ad_spend_import_csv
from portal.choices import Role
from scheduling.models import Appointment
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PERIOD = {"date_from": TODAY - datetime.timedelta(days=29), "date_to": TODAY}


def visit(patient, clinic, *, status, price):
    now = timezone.now()
    service = ServiceFactory()
    return Appointment.objects.create(
        patient=patient,
        doctor=DoctorFactory(services=[service], clinics=[clinic]),
        clinic=clinic,
        service=service,
        starts_at=now - datetime.timedelta(days=2),
        ends_at=now - datetime.timedelta(days=2) + datetime.timedelta(minutes=30),
        status=status,
        channel="online",
        price=Decimal(price),
        created_at=now,
        updated_at=now,
        completed_at=now - datetime.timedelta(days=2) if status == "completed" else None,
    )


def lead(phone, *, clinic=None, days_ago=5, attribution=None, source=LeadSource.WEB_FORM):
    created, _ = lead_create(
        source=source,
        actor=None,
        clinic=clinic,
        phone=phone,
        attribution=attribution or {},
        now=timezone.now() - datetime.timedelta(days=days_ago),
    )
    return created


@pytest.fixture
def dataset(clinic_a, clinic_b):
    """Yandex/checkup: 3 leads, 2 booked, 1 attended (3 000 ₽); VK: 1 lead, attended (1 500 ₽),
    came back later through Yandex/brand; a call without tags; a lead outside the period."""
    a = lead(
        "+79140000001",
        clinic=clinic_a,
        attribution={
            "utm_source": "yandex",
            "utm_campaign": "checkup",
            "ym_client_id": "111",
            "yclid": "y1",
        },
    )
    b = lead(
        "+79140000002",
        clinic=clinic_a,
        attribution={"utm_source": "yandex", "utm_campaign": "checkup"},
    )
    lead(
        "+79140000003",
        clinic=clinic_a,
        attribution={"utm_source": "yandex", "utm_campaign": "checkup"},
    )
    c = lead("+79140000004", clinic=clinic_b, days_ago=10, attribution={"utm_source": "vk"})
    lead(
        "+79140000004",
        clinic=clinic_b,
        days_ago=3,
        attribution={"utm_source": "yandex", "utm_campaign": "brand"},
    )
    lead("+79140000005", clinic=clinic_b, source=LeadSource.CALL)
    lead(
        "+79140000006",
        clinic=clinic_a,
        days_ago=40,
        attribution={"utm_source": "yandex", "utm_campaign": "checkup"},
    )
    for found, status, price in (
        (a, "completed", "3000"),
        (b, "booked", "2000"),
        (c, "completed", "1500"),
    ):
        found.patient = PatientFactory(phone=found.phone)
        found.booked_appointment = visit(found.patient, found.clinic, status=status, price=price)
        found.save(update_fields=["patient", "booked_appointment"])
    ad_spend_add(
        utm_source="yandex",
        utm_campaign="checkup",
        date_from=PERIOD["date_from"],
        date_to=PERIOD["date_to"],
        amount=Decimal("6000"),
        actor=None,
        clinic=clinic_a,
    )
    # Half of this entry's days fall inside the period.
    ad_spend_add(
        utm_source="vk",
        date_from=PERIOD["date_from"] - datetime.timedelta(days=30),
        date_to=PERIOD["date_to"],
        amount=Decimal("1200"),
        actor=None,
        clinic=clinic_b,
    )
    return {"a": a, "b": b, "c": c}


def rows_of(funnel):
    return {
        (row.source, row.campaign): (row.leads, row.booked, row.attended, row.revenue, row.spend)
        for source in funnel.sources
        for row in source.rows
    }


def test_first_touch_funnel(dataset, marketer):
    funnel = funnel_report(user=marketer, **PERIOD)
    assert rows_of(funnel) == {
        ("yandex", "checkup"): (3, 2, 1, Decimal("3000"), Decimal("6000.00")),
        ("vk", ""): (1, 1, 1, Decimal("1500"), Decimal("600.00")),
        ("(Звонок)", ""): (1, 0, 0, Decimal("0"), Decimal("0")),
    }
    yandex = next(s for s in funnel.sources if s.source == "yandex")
    assert yandex.cpl == Decimal("2000.00") and yandex.cac == Decimal("6000.00")
    assert yandex.romi == Decimal("-50")
    vk = next(s for s in funnel.sources if s.source == "vk")
    assert vk.romi == Decimal("150") and vk.booked_share == 100
    assert funnel.total.leads == 5 and funnel.total.revenue == Decimal("4500")


def test_last_touch_moves_the_returning_lead(dataset, marketer):
    funnel = funnel_report(user=marketer, touch="last", **PERIOD)
    rows = rows_of(funnel)
    assert rows[("yandex", "brand")][:3] == (1, 1, 1)
    assert rows[("vk", "")][:3] == (0, 0, 0)
    assert rows[("vk", "")][4] == Decimal("600.00")


def test_clinic_filter_and_a_clinic_marketer(dataset, clinic_b, marketer):
    only_b = funnel_report(user=marketer, clinic_id=clinic_b.pk, **PERIOD)
    assert {s.source for s in only_b.sources} == {"vk", "(Звонок)"}
    scoped = make_staff(Role.MARKETER, clinic_b, email="mb@example.test")
    assert rows_of(funnel_report(user=scoped, **PERIOD)) == rows_of(only_b)


def test_the_funnel_takes_a_fixed_number_of_queries(dataset, marketer, django_assert_num_queries):
    funnel_report(user=marketer, **PERIOD)  # The user's memberships are read once, then kept.
    # The refresh state, the leads grouped, the spend.
    with django_assert_num_queries(3):
        funnel_report(user=marketer, **PERIOD)
    activity_rebuild()
    # With the facts: the leads grouped twice (kept outcomes; visits changed since, live).
    with django_assert_num_queries(4):
        funnel_report(user=marketer, **PERIOD)


def test_spend_is_checked(marketer):
    for bad in (
        {"utm_source": " "},
        {"date_to": TODAY - datetime.timedelta(days=1)},
        {"date_to": TODAY + datetime.timedelta(days=400)},
        {"amount": Decimal("-1")},
    ):
        values = {
            "utm_source": "vk",
            "date_from": TODAY,
            "date_to": TODAY,
            "amount": Decimal("1"),
            **bad,
        }
        with pytest.raises(LeadInvalid):
            ad_spend_add(actor=marketer, **values)
    assert not AdSpend.objects.exists()


def test_spend_import_is_all_or_nothing(marketer):
    good = (
        "date_from;date_to;utm_source;utm_campaign;amount\n"
        "2026-11-01;2026-11-30;yandex;checkup;12 500,50\n"
    )
    assert ad_spend_import_csv(data=good.encode(), actor=marketer) == 1
    assert AdSpend.objects.get().amount == Decimal("12500.50")
    for bad in (
        b"\xff\xfe",
        b"when,how much\n",
        b"date_from,date_to,utm_source,utm_campaign,amount\n",
        b"date_from,date_to,utm_source,utm_campaign,amount\n2026-11-01,2026-11-30,vk,,10\n2026-13-01,2026-11-30,vk,,10\n",
        b"date_from,date_to,utm_source,utm_campaign,amount\n2026-11-30,2026-11-01,vk,,10\n",
    ):
        with pytest.raises(LeadInvalid):
            ad_spend_import_csv(data=bad, actor=marketer)
    assert AdSpend.objects.count() == 1


def test_offline_conversions(dataset, marketer):
    rows = list(offline_conversions(user=marketer, id_kind="clientid"))
    assert rows[0] == ["ClientId", "Target", "DateTime", "Price", "Currency"]
    completed = dataset["a"].booked_appointment.completed_at
    assert rows[1:] == [["111", "visit_done", str(int(completed.timestamp())), "3000.00", "RUB"]]
    assert [r[0] for r in offline_conversions(user=marketer, id_kind="yclid")][1:] == ["y1"]


def test_the_funnel_page_and_its_exports(dataset, marketer, clinic_a):
    client = client_for(marketer)
    page = client.get(reverse("crm:funnel"))
    assert page.status_code == 200
    assert "checkup" in page.text
    period = f"date_from={PERIOD['date_from']}&date_to={TODAY}&touch=first"
    csv_response = client.get(reverse("crm:funnel") + f"?{period}&format=csv")
    body = b"".join(csv_response.streaming_content).decode()
    assert body.startswith("\ufeff") and "yandex;checkup;3;2;1;3000" in body
    bad = client.get(
        reverse("crm:funnel")
        + f"?date_from={TODAY}&date_to={TODAY - datetime.timedelta(days=3)}&touch=first"
    )
    assert bad.status_code == 400
    # No figures pass for the asked period when it was refused.
    assert "checkup" not in bad.text and "Исправьте фильтры" in bad.text
    bad_csv = client.get(
        reverse("crm:funnel")
        + f"?date_from={TODAY}&date_to={TODAY - datetime.timedelta(days=3)}&format=csv"
    )
    assert bad_csv.status_code == 400 and bad_csv["Content-Type"].startswith("text/html")
    export = client.get(reverse("crm:offline_conversions") + "?id=yclid")
    # Metrica's layout: commas, no BOM, whatever the spreadsheet convention.
    conversions = b"".join(export.streaming_content)
    assert conversions.startswith(b"Yclid,") and b"y1,visit_done" in conversions


def test_spend_forms_on_the_page(marketer, clinic_a):
    client = client_for(marketer)
    response = client.post(
        reverse("crm:funnel"),
        {
            "utm_source": "vk",
            "date_from": TODAY,
            "date_to": TODAY,
            "amount": "100",
            "clinic": clinic_a.pk,
        },
    )
    assert response.status_code == 302
    assert AdSpend.objects.get().clinic == clinic_a
    refused = client.post(
        reverse("crm:funnel"),
        {"utm_source": "vk", "date_from": TODAY, "date_to": TODAY, "amount": "-5"},
    )
    assert refused.status_code == 400
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "spend.csv",
        b"date_from,date_to,utm_source,utm_campaign,amount\n2026-11-01,2026-11-02,vk,,x\n",
    )
    response = client.post(reverse("crm:funnel"), {"file": upload})
    assert response.status_code == 400
    assert "2" in response.text
    assert AdSpend.objects.count() == 1


@pytest.mark.parametrize("persona", ["registrar_a", "clinic_admin_a", "director", "doctor_a"])
def test_other_roles_are_refused(request, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("crm:funnel")).status_code == 403
    assert client.get(reverse("crm:offline_conversions")).status_code == 403
    assert Lead.objects.count() == 0
