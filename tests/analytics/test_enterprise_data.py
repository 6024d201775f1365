"""The accounting export as a 1С EnterpriseData message: its structure, totals and access."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from analytics.selectors.enterprise_data import ED_NS, MSG_NS
from analytics.services.rollups import rollups_rebuild
from scheduling.choices import AppointmentStatus as S
from tests.conftest import client_for

from .conftest import BERLIN, LATER, at

pytestmark = pytest.mark.django_db

PERIOD = {"date_from": "2026-03-28", "date_to": "2026-03-30"}
URL = reverse("analytics:export_accounting_xml")
ED = f"{{{ED_NS}}}"


@pytest.fixture
def built(net):
    # A second visit of the same service at the same price on the 28th: one line of two.
    net.visit(
        starts=at(BERLIN, 28, 11), created=at(BERLIN, 20, 9), status=S.COMPLETED, patient=net.p2
    )
    entity = net.berlin.legal_entity
    entity.vat_mode = "vat22"
    entity.save(update_fields=["vat_mode"])
    rollups_rebuild(now=LATER)
    return net


def message(user, **query) -> ET.Element:
    response = client_for(user).get(URL, {**PERIOD, **query})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["Content-Disposition"].endswith('.xml"')
    return parse(response.content)


def parse(content: bytes) -> ET.Element:
    # Our own export, not untrusted input; it must also carry no DTD or entity.
    assert b"<!DOCTYPE" not in content and b"<!ENTITY" not in content
    return ET.fromstring(content)  # noqa: S314 - checked above, written by the code under test


def documents(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ED}Body/{ED}Документ.РеализацияТоваровУслуг")


def amount(node: ET.Element, path: str) -> Decimal:
    return Decimal(node.findtext(path, namespaces={}) or "nan")


def test_the_message_holds_one_sale_per_legal_entity_and_local_day(built, director):
    root = message(director)
    assert root.tag == f"{{{MSG_NS}}}Message"
    assert root.findtext(f"{{{MSG_NS}}}Header/{{{MSG_NS}}}Format") == ED_NS
    body = root.find(f"{ED}Body")
    assert body is not None
    assert len(body.findall(f"{ED}Справочник.Организации")) == 2
    assert len(body.findall(f"{ED}Справочник.Номенклатура")) == 1
    sales = documents(root)
    # Berlin on the 28th, 29th and 30th; Moscow on the 29th.
    assert len(sales) == 4
    totals = {
        (
            sale.findtext(f"{ED}КлючевыеСвойства/{ED}Организация/{ED}ИНН"),
            sale.findtext(f"{ED}КлючевыеСвойства/{ED}Дата"),
        ): amount(sale, f"{ED}Сумма")
        for sale in sales
    }
    berlin, moscow = built.berlin.legal_entity.inn, built.moscow.legal_entity.inn
    assert totals == {
        (berlin, "2026-03-28T23:59:59"): Decimal("2000.00"),
        (berlin, "2026-03-29T23:59:59"): Decimal("1500.00"),
        (berlin, "2026-03-30T23:59:59"): Decimal("800.00"),
        (moscow, "2026-03-29T23:59:59"): Decimal("5000.00"),
    }
    for sale in sales:
        lines = sale.findall(f"{ED}Услуги/{ED}Строка")
        assert sum(amount(line, f"{ED}Сумма") for line in lines) == amount(sale, f"{ED}Сумма")


def test_a_line_counts_the_same_service_at_the_same_price_with_its_vat(built, director):
    first = next(
        sale
        for sale in documents(message(director))
        if sale.findtext(f"{ED}КлючевыеСвойства/{ED}Дата") == "2026-03-28T23:59:59"
    )
    (line,) = first.findall(f"{ED}Услуги/{ED}Строка")
    assert line.findtext(f"{ED}Количество") == "2"
    assert line.findtext(f"{ED}Цена") == "1000.00"
    assert line.findtext(f"{ED}СтавкаНДС") == "НДС22"
    # 2000 × 22 / 122 = 360.655…
    assert line.findtext(f"{ED}СуммаНДС") == "360.66"
    moscow = next(
        sale
        for sale in documents(message(director))
        if sale.findtext(f"{ED}КлючевыеСвойства/{ED}Организация/{ED}ИНН")
        == built.moscow.legal_entity.inn
    )
    assert moscow.findtext(f"{ED}Услуги/{ED}Строка/{ED}СтавкаНДС") == "БезНДС"


def test_exporting_again_gives_the_same_references_and_no_patient_data(built, director):
    first = client_for(director).get(URL, PERIOD).content
    again = client_for(director).get(URL, PERIOD).content
    refs = [n.text for n in parse(first).iter(f"{ED}Ссылка")]
    assert refs == [n.text for n in parse(again).iter(f"{ED}Ссылка")]
    text = first.decode()
    for patient in (built.p1, built.p2, built.p3):
        assert patient.last_name not in text


def test_a_clinic_admin_exports_only_their_clinics(built, berlin_admin):
    root = message(berlin_admin)
    inns = {n.text for n in root.iter(f"{ED}ИНН")}
    assert inns == {built.berlin.legal_entity.inn}


def test_an_empty_period_gives_a_well_formed_empty_message(built, director):
    root = message(director, date_from="2025-01-01", date_to="2025-01-02")
    assert documents(root) == []


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "marketer"])
def test_other_staff_and_patients_are_refused(built, persona, patient, request):
    assert client_for(request.getfixturevalue(persona)).get(URL).status_code == 403
    assert client_for(patient.user).get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
