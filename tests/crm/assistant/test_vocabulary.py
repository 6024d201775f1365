"""`vocabulary_load()`: the catalogue as the assistant reads it, rebuilt when it changes."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from crm.assistant.understanding import understand
from crm.selectors.assistant_vocabulary import VERSION_KEY, vocabulary_load
from tests.factories import ClinicFactory, DoctorFactory, ServiceFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 12, 2, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fresh_version():
    from django.core.cache import cache

    cache.delete(VERSION_KEY)
    yield
    cache.delete(VERSION_KEY)


def _read(text):
    return understand(
        text,
        language=None,
        vocabulary=vocabulary_load(),
        now=NOW,
        tz=zoneinfo.ZoneInfo("Asia/Irkutsk"),
    )


def test_it_reads_the_catalogue_and_its_synonyms():
    ent = SpecialtyFactory(slug="ent", name="Оториноларинголог (ЛОР)")
    service = ServiceFactory(code="ent-first", name="Приём ЛОР-врача первичный", specialty=ent)
    doctor = DoctorFactory(last_name="Белозерская", services=[service])
    clinic = ClinicFactory(name="Медфронт на Арбате", city="Москва", address="ул. Арбат, 20")
    understanding = _read("Запишите к Белозерской, к лору на Арбате в Москве")
    assert understanding.specialty_ids == (ent.pk,)
    assert understanding.doctor_ids == (doctor.pk,)
    assert understanding.clinic_ids == (clinic.pk,)
    assert understanding.city == "Москва"


def test_a_changed_catalogue_is_seen_on_the_next_message(django_assert_num_queries):
    SpecialtyFactory(slug="cardiologist", name="Кардиолог")
    first = vocabulary_load()
    with django_assert_num_queries(0):
        assert vocabulary_load() is first
    SpecialtyFactory(slug="dentist", name="Стоматолог")
    assert vocabulary_load() is not first
    assert _read("нужен зубной").specialty_ids != ()


def test_inactive_doctors_and_services_are_not_offered():
    DoctorFactory(last_name="Соколова", is_active=False)
    assert _read("к Соколовой").doctor_ids == ()
