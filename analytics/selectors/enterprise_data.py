"""The accounting export as a 1С EnterpriseData message (the exchange format of 1С:Бухгалтерия
and the other 1С:Предприятие 8 products): the completed paid visits of a period as sales of
services, one document per legal entity and clinic-local day. Layout in the README,
"Accounting export".

The message is the 1С data-exchange envelope (`Message` with a `msg:Header` naming the
format) whose `Body` holds, in the EnterpriseData namespace, the legal entities
(`Справочник.Организации`), the services sold (`Справочник.Номенклатура`), the private
customer (`Справочник.Контрагенты`, "Розничный покупатель": patients are not named) and the
sales (`Документ.РеализацияТоваровУслуг` with a `Услуги` table, one line per service and
price). Every `Ссылка` is a UUID derived from what the object is (the entity's INN and KPP,
the service's code, the entity and day of a sale), so exporting a day again updates the same
objects in 1С instead of adding copies.
"""

from __future__ import annotations

import datetime
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from analytics.selectors.exports import PaidVisit, paid_visits
from analytics.selectors.scope import Scope

FORMAT_VERSION = "1.11"
ED_NS = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{FORMAT_VERSION}"
MSG_NS = "http://www.1c.ru/SSL/Exchange/Message"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The namespace of the derived object references (UUID version 5).
REF_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://medfront.example/enterprise-data")
RETAIL_CUSTOMER = "Розничный покупатель"
# `LegalEntity.vat_mode` → EnterpriseData's VAT rate enumeration and the rate in per cent.
VAT_RATES: dict[str, tuple[str, int | None]] = {
    "none": ("БезНДС", None),
    "vat0": ("НДС0", 0),
    "vat5": ("НДС5", 5),
    "vat7": ("НДС7", 7),
    "vat10": ("НДС10", 10),
    "vat22": ("НДС22", 22),
}
CENT = Decimal("0.01")

ET.register_namespace("msg", MSG_NS)
ET.register_namespace("xs", XS_NS)
ET.register_namespace("xsi", XSI_NS)


@dataclass
class _Sale:
    """One legal entity's sales of one local day: (service code, name, price) → count."""

    entity: PaidVisit
    day: datetime.date
    lines: dict[tuple[str, str, Decimal], int] = field(default_factory=lambda: defaultdict(int))


def ref(*parts: object) -> str:
    return str(uuid.uuid5(REF_NAMESPACE, "/".join(str(p) for p in parts)))


def _add(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ED_NS}}}{tag}")
    if text is not None:
        child.text = str(text)
    return child


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def _vat(amount: Decimal, rate: int | None) -> Decimal:
    """The VAT included in `amount` at `rate` per cent (prices include VAT)."""
    if not rate:
        return Decimal("0.00")
    return (amount * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _organisation(parent: ET.Element, tag: str, entity: PaidVisit) -> None:
    node = _add(parent, tag)
    _add(node, "Ссылка", ref("organisation", entity.inn, entity.kpp))
    _add(node, "Наименование", entity.entity)
    _add(node, "НаименованиеПолное", entity.entity_full_name)
    _add(node, "ИНН", entity.inn)
    if entity.kpp:
        _add(node, "КПП", entity.kpp)


def _service(parent: ET.Element, tag: str, code: str, name: str) -> None:
    node = _add(parent, tag)
    _add(node, "Ссылка", ref("service", code))
    _add(node, "НаименованиеПолное", name)
    _add(node, "КодВПрограмме", code)


def _customer(parent: ET.Element, tag: str) -> None:
    node = _add(parent, tag)
    _add(node, "Ссылка", ref("customer", "retail"))
    _add(node, "Наименование", RETAIL_CUSTOMER)
    _add(node, "ЮридическоеФизическоеЛицо", "ФизическоеЛицо")


def _sales(scope: Scope) -> list[_Sale]:
    sales: dict[tuple[int, datetime.date], _Sale] = {}
    for visit in paid_visits(scope=scope):
        sale = sales.setdefault((visit.entity_id, visit.day), _Sale(entity=visit, day=visit.day))
        sale.lines[(visit.service_code, visit.service, visit.price)] += 1
    return sorted(sales.values(), key=lambda s: (s.entity.inn, s.entity.kpp, s.day))


def enterprise_data_xml(*, scope: Scope, created: datetime.datetime) -> bytes:
    """The message for `scope`'s completed paid visits, as UTF-8 XML bytes."""
    sales = _sales(scope)
    root = ET.Element(f"{{{MSG_NS}}}Message")
    header = ET.SubElement(root, f"{{{MSG_NS}}}Header")
    ET.SubElement(header, f"{{{MSG_NS}}}Format").text = ED_NS
    ET.SubElement(header, f"{{{MSG_NS}}}CreationDate").text = created.strftime("%Y-%m-%dT%H:%M:%S")
    ET.SubElement(header, f"{{{MSG_NS}}}AvailableVersion").text = FORMAT_VERSION
    body = ET.SubElement(root, f"{{{ED_NS}}}Body")

    entities: dict[tuple[str, str], PaidVisit] = {}
    services: dict[str, str] = {}
    for sale in sales:
        entities.setdefault((sale.entity.inn, sale.entity.kpp), sale.entity)
        for code, name, _price in sale.lines:
            services.setdefault(code, name)
    for entity in entities.values():
        catalogue = _add(body, "Справочник.Организации")
        _organisation(catalogue, "КлючевыеСвойства", entity)
    for code, name in sorted(services.items()):
        catalogue = _add(body, "Справочник.Номенклатура")
        _service(catalogue, "КлючевыеСвойства", code, name)
        _add(catalogue, "Наименование", name)
    if sales:
        catalogue = _add(body, "Справочник.Контрагенты")
        _customer(catalogue, "КлючевыеСвойства")
    for sale in sales:
        _sale_document(body, sale)
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=ED_NS)
    return xml


def _sale_document(body: ET.Element, sale: _Sale) -> None:
    entity = sale.entity
    vat_code, rate = VAT_RATES.get(entity.vat_mode, VAT_RATES["none"])
    document = _add(body, "Документ.РеализацияТоваровУслуг")
    keys = _add(document, "КлючевыеСвойства")
    _add(keys, "Ссылка", ref("sale", entity.inn, entity.kpp, sale.day.isoformat()))
    _add(keys, "Дата", f"{sale.day.isoformat()}T23:59:59")
    _add(keys, "Номер", f"MF-{sale.day:%Y%m%d}-{entity.inn}")
    _organisation(keys, "Организация", entity)
    _add(document, "ВидОперации", "РеализацияКлиенту")
    currency = _add(document, "Валюта")
    _add(currency, "Код", "643")
    _add(currency, "Наименование", "руб.")
    total = sum((price * count for (_c, _n, price), count in sale.lines.items()), Decimal(0))
    _add(document, "Сумма", _money(total))
    _customer(document, "Контрагент")
    _add(document, "ЦенаВключаетНДС", "true")
    _add(document, "Комментарий", "Medfront: оказанные платные услуги за день")
    lines = _add(document, "Услуги")
    for (code, name, price), count in sorted(sale.lines.items()):
        amount = price * count
        line = _add(lines, "Строка")
        _service(line, "Номенклатура", code, name)
        _add(line, "Содержание", name)
        _add(line, "Количество", count)
        _add(line, "Цена", _money(price))
        _add(line, "Сумма", _money(amount))
        _add(line, "СтавкаНДС", vat_code)
        _add(line, "СуммаНДС", _money(_vat(amount, rate)))
