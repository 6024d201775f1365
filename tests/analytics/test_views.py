"""The dashboard's pages: who may see what, bad input, exports, targets, query budget."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from analytics.formatting import format_value
from analytics.models import KpiTarget
from analytics.services.rollups import rollups_rebuild
from portal.choices import Role
from tests.conftest import client_for
from tests.factories import SpecialtyFactory, make_staff

from .conftest import BERLIN, LATER, at

pytestmark = pytest.mark.django_db

PERIOD = {"date_from": "2026-03-28", "date_to": "2026-03-30"}
URL = "/analytics/"


@pytest.fixture
def built(net):
    rollups_rebuild(now=LATER)
    return net


def test_the_director_sees_the_whole_network(built, director):
    response = client_for(director).get(URL, PERIOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Berlin Mitte" in body and "Москва Арбат" in body
    assert "<svg" in body and "<title>" in body


def test_the_clinic_admin_sees_only_their_clinic(built, berlin_admin):
    body = client_for(berlin_admin).get(URL, PERIOD).content.decode()
    assert "Berlin Mitte" in body
    assert "Москва Арбат" not in body


def test_another_clinics_admin_cannot_pick_it(built, moscow_admin):
    response = client_for(moscow_admin).get(URL, {**PERIOD, "clinic": built.berlin.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Berlin Mitte" not in body
    assert 'class="field-error"' in body


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "head_nurse_a", "marketer"])
def test_other_staff_are_refused(built, persona, request):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(URL).status_code == 403
    assert client_for(user).get(reverse("analytics:glossary")).status_code == 403


def test_patients_are_refused_and_anonymous_sent_to_sign_in(built, patient):
    assert client_for(patient.user).get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bad_dates_give_a_clear_error_not_a_500(built, director):
    response = client_for(director).get(URL, {"date_from": "2026-04-01", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "Выберите период" in response.content.decode()
    response = client_for(director).get(URL, {"date_from": "yesterday", "clinic": "x"})
    assert response.status_code == 200


def test_missing_sources_read_no_data_yet(built, director):
    body = client_for(director).get(URL, PERIOD).content.decode()
    assert "нет данных" in body


RETENTION_HINT = "Учитываются пациенты, впервые пришедшие не менее 90 дней назад"


def test_the_retention_tile_says_why_a_recent_period_has_no_figure(built, director):
    # The last 30 days (the default): no patient first seen in them has had 90 days yet.
    body = client_for(director).get(URL).content.decode()
    assert RETENTION_HINT in body
    # A period long enough ago has its cohort: no such hint, whatever its figure.
    body = client_for(director).get(URL, PERIOD).content.decode()
    assert RETENTION_HINT not in body


def test_the_page_costs_the_same_queries_however_long_the_history(built, director):
    client = client_for(director)
    client.get(URL, PERIOD)  # warm the session and memberships
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counted(query: dict[str, str]) -> tuple[int, int]:
        """Statements of the page with the rolled-up figures computed, then cached."""
        cache.clear()
        client.get(URL, {"language": "ru"})  # the session again, after the cache was emptied
        with CaptureQueriesContext(connection) as cold:
            client.get(URL, query)
        with CaptureQueriesContext(connection) as warm:
            client.get(URL, query)
        return len(cold), len(warm)

    small = counted(PERIOD)
    # A year more of history, on other days and with other patients.
    for day in range(1, 29):
        for hour in (9, 10, 11):
            built.visit(
                starts=at(BERLIN, day, hour, month=2),
                created=at(BERLIN, day, 8, month=2),
                status="completed",
            )
    rollups_rebuild(now=LATER)
    large = counted({"date_from": "2026-02-01", "date_to": "2026-03-30"})
    assert large == small
    # The sources outside the rollups (requests, calls, conversations, messages, the waiting
    # list) are read afresh for each of the three periods shown.
    assert small[0] <= 50
    # The cached rollups spare the page their queries until the next refresh.
    assert small[1] < small[0]


def test_a_specialty_shows_its_own_figures(built, director):
    other = SpecialtyFactory()
    client = client_for(director)
    response = client.get(URL, {**PERIOD, "specialty": built.service.specialty.pk})
    assert response.status_code == 200
    assert response.context["tables"]["clinics"].rows
    response = client.get(URL, {**PERIOD, "specialty": other.pk})
    assert response.status_code == 200
    assert not response.context["tables"]["clinics"].rows


def test_tables_sort_by_a_column(built, director):
    response = client_for(director).get(URL, {**PERIOD, "clinics_sort": "-revenue"})
    body = response.content.decode()
    table = body[body.index('id="table-clinics"') :]
    assert table.index("Москва Арбат") < table.index("Berlin Mitte")
    response = client_for(director).get(URL, {**PERIOD, "clinics_sort": "revenue"})
    body = response.content.decode()
    table = body[body.index('id="table-clinics"') :]
    assert table.index("Berlin Mitte") < table.index("Москва Арбат")


def _body_cells(body: str, code: str) -> list[list[str]]:
    """The texts of a table's body cells, its links left out."""
    table = body[body.index(f'id="table-{code}"') :]
    rows = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [html.unescape(re.sub(r"<a .*?</a>", "", cell)).strip() for cell in CELL.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", rows, re.S)
    ]


CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_table_cell_reads_as_its_figure(built, director, language):
    response = client_for(director).get(URL, {**PERIOD, "language": language})
    body = response.content.decode()
    tables = response.context["tables"]
    assert tables["doctors"].rows and tables["clinics"].rows
    with translation.override(response["Content-Language"]):
        for code, table in tables.items():
            expected = [
                [
                    str(row[c.key])
                    if c.kind == "text"
                    else ("—" if row[c.key] is None else format_value(row[c.key], c.kind))
                    for c in table.columns
                ]
                for row in table.rows
            ]
            assert _body_cells(body, code) == expected


def test_drill_down_links_only_for_who_may_see_appointments(built, director, berlin_admin):
    assert "/desk/?clinic=" in client_for(director).get(URL, PERIOD).content.decode()
    nobody = make_staff(Role.DIRECTOR, built.berlin, email="dir-b@example.test")
    assert client_for(nobody).get(URL, PERIOD).status_code == 200


def test_drill_down_links_lead_to_the_desk_day_and_the_targets(built, director, berlin_admin):
    desk = reverse("scheduling:desk")
    berlin, doctor = built.berlin.public_id, built.doctor.public_id
    body = client_for(director).get(URL, PERIOD).content.decode()
    assert f'href="{desk}?clinic={berlin}&amp;date=2026-03-30"' in body
    assert f'href="{desk}?clinic={berlin}&amp;doctor={doctor}&amp;date=2026-03-30"' in body
    targets = reverse("analytics:targets", args=[berlin])
    # The director reads the figures; the clinic's admin sets its targets.
    assert targets not in body
    assert f'href="{targets}"' in client_for(berlin_admin).get(URL, PERIOD).content.decode()


def test_tables_export_as_csv_and_xlsx(built, director):
    client = client_for(director)
    response = client.get(reverse("analytics:export", args=["clinics", "csv"]), PERIOD)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    # For Excel in a Russian locale: a BOM, `;` between cells, decimal commas.
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    berlin = next(r for r in rows if r[0] == "Berlin Mitte")
    assert berlin[1] == "6" and berlin[2] == "50,0" and berlin[-1] == "3300,00"
    english = client.get(
        reverse("analytics:export", args=["clinics", "csv"]), PERIOD, HTTP_ACCEPT_LANGUAGE="en"
    )
    lines = b"".join(english.streaming_content).decode().splitlines()
    assert any(line.startswith("Berlin Mitte;6;50.0;") for line in lines)
    response = client.get(reverse("analytics:export", args=["services", "xlsx"]), PERIOD)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2
    assert client.get(reverse("analytics:export", args=["patients", "csv"])).status_code == 404
    assert client.get(reverse("analytics:export", args=["clinics", "pdf"])).status_code == 404


def test_exports_are_scoped_like_the_page(built, berlin_admin, registrar_a):
    response = client_for(berlin_admin).get(
        reverse("analytics:export", args=["clinics", "csv"]), PERIOD
    )
    assert "Москва" not in b"".join(response.streaming_content).decode()
    url = reverse("analytics:export", args=["clinics", "csv"])
    assert client_for(registrar_a).get(url).status_code == 403


def test_the_accounting_export_lists_completed_paid_visits(built, director):
    response = client_for(director).get(reverse("analytics:export_accounting"), PERIOD)
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode()), delimiter=";")
    )
    # No BOM: an importer decoding plain UTF-8 reads the first column id as it is.
    assert rows[0][:3] == ["legal_entity_inn", "legal_entity_kpp", "legal_entity"]
    # A, C and I in Berlin, one visit in Moscow; no patient data in any column.
    assert len(rows) == 5
    assert sorted(r[10] for r in rows[1:]) == ["1000.00", "1500.00", "5000.00", "800.00"]
    assert {r[4] for r in rows[1:]} == {"2026-03-28", "2026-03-29", "2026-03-30"}


def test_the_clinic_admin_sets_targets_for_their_clinic(built, berlin_admin):
    url = reverse("analytics:targets", args=[built.berlin.public_id])
    client = client_for(berlin_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, {"online_share": "60", "no_show_rate": ""})
    assert response.status_code == 302
    assert KpiTarget.objects.get(clinic=built.berlin, kpi="online_share").value == 60
    body = client.get(URL, {**PERIOD, "clinic": built.berlin.pk}).content.decode()
    assert "kpi-missed" in body  # 50 % online against a 60 % target
    assert "Цель: 60\u00a0% ✗" in body  # the target in the tile's own unit


def test_targets_of_another_clinic_or_bad_values_change_nothing(
    built, berlin_admin, moscow_admin, director
):
    url = reverse("analytics:targets", args=[built.berlin.public_id])
    assert client_for(moscow_admin).post(url, {"online_share": "1"}).status_code == 404
    assert client_for(director).get(url).status_code == 403
    response = client_for(berlin_admin).post(url, {"online_share": "-5"})
    assert response.status_code == 200
    assert not KpiTarget.objects.exists()


def test_the_glossary_lists_every_definition(built, director):
    body = client_for(director).get(reverse("analytics:glossary")).content.decode()
    assert "Доля онлайн-записи" in body or "Online booking share" in body
    assert body.count('class="card"') >= 14


def test_the_director_home_links_the_dashboard(built, director):
    body = client_for(director).get("/home/").content.decode()
    assert URL in body


def test_namesake_doctors_are_told_apart_by_their_clinics(built, director):
    twin = built.moscow_doctor
    twin.last_name, twin.first_name = built.doctor.last_name, built.doctor.first_name
    twin.save()
    body = client_for(director).get(URL, PERIOD).content.decode()
    name = f"{twin.last_name} {twin.first_name}"
    assert f"{name} (Berlin Mitte)" in body
    assert f"{name} (Москва Арбат)" in body


def test_the_filters_keep_the_chosen_doctor_and_mark_a_wrong_one(built, director):
    client = client_for(director)
    body = client.get(URL, {**PERIOD, "doctor": built.doctor.pk}).content.decode()
    assert f'<option value="{built.doctor.pk}" selected>' in body
    assert '<option value="" selected>' in body  # the clinic and the specialty: all
    body = client.get(URL, {**PERIOD, "doctor": 999999}).content.decode()
    assert re.search(r'<select name="doctor"[^>]* aria-invalid="true"', body)
    assert f'<option value="{built.doctor.pk}">' in body


def test_the_chart_axis_names_russian_days_in_the_genitive():
    import datetime

    from django.utils import translation

    from analytics.charts import daily_bookings

    days = [datetime.date(2026, 11, 6) + datetime.timedelta(days=n) for n in range(3)]
    with translation.override("ru"):
        svg = str(daily_bookings({}, {}, days))
    assert "6 ноября" in svg and "Ноя" not in svg
