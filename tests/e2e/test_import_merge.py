"""Import and merge in a browser: the admin uploads a legacy export, checks the preview and
mapping, runs the dry run; a registrar compares two profiles on the merge screen. Screenshots
at 1280 px."""

import datetime

import pytest

from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXPORT = "\n".join(
    [
        "ФИО;Дата рождения;Телефон;E-mail;Дата приёма;Врач;Услуга",
        "ИВАНОВ ИВАН ПЕТРОВИЧ;01.02.1980;8 (916) 111-22-33;ivanov@example.test;01.03.2024 10:00;"
        "Петрова А. А.;Приём терапевта",
        "Сидорова Анна;31.02.1990;;;;;",
        "Кузнецова Мария Ивановна;15.03.1985;+7 916 222-33-44;;05.04.2024 11:30;Орлов В. В.;УЗИ",
    ]
).encode("cp1251")


def _sign_in(page, live_server, user):
    session = client_for(user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_the_import_preview_and_dry_run(page, live_server, clinic_a, clinic_admin_a, tmp_path):
    _sign_in(page, live_server, clinic_admin_a)
    page.set_viewport_size({"width": 1280, "height": 900})
    export = tmp_path / "legacy.csv"
    export.write_bytes(EXPORT)
    page.goto(f"{live_server.url}/crm/import/")
    page.set_input_files("#id_file", str(export))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector(".import-preview")
    assert page.locator("#mapping-0").input_value() == "full_name"
    screenshot(page, "crm-import-preview")
    page.click("button[value=dry_run]")
    page.wait_for_selector(".import-counts")
    screenshot(page, "crm-import-dry-run")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow


def test_the_merge_screen(page, live_server, clinic_a, registrar_a):
    birth = datetime.date(1980, 2, 1)
    a = PatientFactory(
        last_name="Иванов", first_name="Иван", birth_date=birth, home_clinic=clinic_a, email=""
    )
    b = PatientFactory(
        last_name="Иваноа", first_name="Иван", birth_date=birth, home_clinic=clinic_a
    )
    _sign_in(page, live_server, registrar_a)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/crm/merge/{a.public_id}/{b.public_id}/")
    page.wait_for_selector(".merge-table")
    screenshot(page, "crm-merge-screen")
    page.click(".table-wrap + .button-row button[type=submit]")
    page.wait_for_url("**/crm/duplicates/")
    b.refresh_from_db()
    assert b.merged_into == a
