"""Names that look the same are the same to blind indexes and duplicate detection: look-alike
letters of another script, invisible characters and dash variants do not make a new name."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from portal.models import Patient
from portal.models.patients import name_birth_index
from portal.normalize import clean_name, normalize_name
from portal.services.patients import patient_create, patient_find_duplicates

BORN = datetime.date(1985, 3, 14)

# Each pair looks the same on screen; the first is typed with the characters named.
SAME = [
    ("Иван\u006fва", "Иванова"),  # Latin o
    ("\u004bузн\u0065цова", "Кузнецова"),  # Latin K and e
    ("\u004d\u0061\u0070ия", "Мария"),  # Latin M, a, p
    ("\u0043ергей", "Сергей"),  # Latin C
    ("\u0041ННА", "АННА"),  # Latin A, in capitals
    ("\u03bfльга", "ольга"),  # Greek omicron
    ("\u039fЛЬГА", "Ольга"),  # Greek capital omicron
    ("Х\u0061ритонов", "Харитонов"),  # Latin a
    ("Ива\u200bнова", "Иванова"),  # zero-width space
    ("Ива\u00adнова", "Иванова"),  # soft hyphen
    ("\ufeffИванова\u200d", "Иванова"),  # byte order mark, zero-width joiner
    ("\u202eИванова\u202c", "Иванова"),  # right-to-left override and pop
    ("\u2067Иванова\u2069", "Иванова"),  # right-to-left isolate
    ("Ив\u034fанова", "Иванова"),  # combining grapheme joiner
    ("Семёнов", "Семенов"),
    ("Петров\u2013Водкин", "Петров-Водкин"),  # en dash
    ("Петров\u2014Водкин", "Петров-Водкин"),  # em dash
    ("Петров\u2011Водкин", "Петров-Водкин"),  # non-breaking hyphen
    ("Ｉｖａｎｏｖ", "Ivanov"),  # full-width Latin
    ("Sm\u0456th", "Smith"),  # Ukrainian і in a Latin name
    ("J\u043ehns\u043en", "Johnson"),  # Cyrillic о in a Latin name
    ("\u0421\u043e\u0445", "Cox"),  # every letter has a look-alike: both fold alike
]

DIFFERENT = [
    ("Иванов", "Ivanov"),  # a transliteration is another name
    ("Иванова", "Иванов"),
    ("Ивanов", "Иванов"),  # Latin n has no Cyrillic look-alike: not a homoglyph spelling
    ("Ольга", "Олыга"),
]


@pytest.mark.parametrize(("typed", "plain"), SAME)
def test_names_that_look_the_same_normalise_the_same(typed, plain):
    assert typed != plain
    assert normalize_name(typed) == normalize_name(plain)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_names_that_look_different_stay_different(one, other):
    assert normalize_name(one) != normalize_name(other)


def test_stored_names_lose_invisible_characters_but_keep_their_letters():
    assert clean_name("  Ива\u200bнова\u00ad  Анна ") == "Иванова Анна"
    assert clean_name("\u202eАнна") == "Анна"
    # The letters stay as typed: only indexes fold scripts.
    assert clean_name("Иван\u006fва") == "Иван\u006fва"


@pytest.mark.django_db
def test_a_look_alike_spelling_is_a_possible_duplicate():
    existing = patient_create(
        actor=None, last_name="Кузнецова", first_name="Марфа", birth_date=BORN
    )
    found = patient_find_duplicates(
        last_name="\u004bузн\u0065цова", first_name="М\u0061рф\u0061", birth_date=BORN
    )
    assert found == [existing]


@pytest.mark.django_db
def test_a_profile_typed_with_look_alikes_is_stored_clean_and_found_by_its_plain_name(
    registrar_a,
):
    typed = patient_create(
        actor=None,
        last_name="Ива\u200bн\u006fва",
        first_name="\u0410нн\u0430",
        birth_date=BORN,
        phone="+79145557788",
    )
    assert typed.last_name == "Иван\u006fва"  # the zero-width space is gone
    api = APIClient()
    api.force_authenticate(registrar_a)
    by_name = api.post(
        "/api/v1/patients/search/",
        {"name": "Иванова Анна", "birth_date": BORN.isoformat()},
        format="json",
    )
    assert [p["id"] for p in by_name.json()] == [str(typed.public_id)]
    quick = api.post("/api/v1/patients/search/", {"q": "7788 иванова"}, format="json")
    assert [p["id"] for p in quick.json()] == [str(typed.public_id)]


@pytest.mark.django_db
def test_creating_a_look_alike_of_an_existing_profile_through_the_api_is_a_409(registrar_a):
    existing = patient_create(actor=None, last_name="Смирнова", first_name="Ольга", birth_date=BORN)
    api = APIClient()
    api.force_authenticate(registrar_a)
    body = {
        "last_name": "\u0421мирн\u006fв\u0430",  # Cyrillic С, Latin o and a
        "first_name": "\u039f\u043bьга",  # Greek capital omicron
        "birth_date": BORN.isoformat(),
    }
    response = api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 409
    assert [d["id"] for d in response.json()["duplicates"]] == [str(existing.public_id)]


def _stale_index(patient: Patient, index: str) -> None:
    Patient.objects.filter(pk=patient.pk).update(name_birth_bidx=index)


@pytest.mark.django_db
def test_reindex_patients_recomputes_stale_indexes():
    patient = patient_create(
        actor=None, last_name="Иван\u006fва", first_name="Анна", birth_date=BORN
    )
    right = patient.name_birth_bidx
    _stale_index(patient, "0" * 64)
    out = StringIO()
    call_command("reindex_patients", "--no-progress", stdout=out)
    assert "1 patients changed" in out.getvalue()
    patient.refresh_from_db()
    assert patient.name_birth_bidx == right == name_birth_index("Иванова", "Анна", BORN)
    out = StringIO()
    call_command("reindex_patients", "--no-progress", "--batch-size=1", stdout=out)
    assert "0 patients changed" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migration_0008_reindexes_names_stored_before_it(registrar_a):
    patient = patient_create(
        actor=None, last_name="Иван\u006fва", first_name="Анна", birth_date=BORN
    )
    executor = MigrationExecutor(connection)
    try:
        # Its reverse computes the indexes as the previous release did: the Latin "o" counted.
        executor.migrate([("portal", "0007_idempotency_without_pii")])
        # Only the column read here: later migrations add columns the table lacks at 0007.
        patient.refresh_from_db(fields=["name_birth_bidx"])
        assert patient.name_birth_bidx != name_birth_index("Иванова", "Анна", BORN)
        executor = MigrationExecutor(connection)
        executor.migrate([("portal", "0008_reindex_look_alike_names")])
        patient.refresh_from_db(fields=["name_birth_bidx"])
        assert patient.name_birth_bidx == name_birth_index("Иванова", "Анна", BORN)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
