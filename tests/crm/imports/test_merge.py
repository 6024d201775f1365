import datetime

import pytest
from django.utils import timezone

from crm.errors import MergeRefused
from crm.models import DuplicateCandidate, LegacyVisit
from crm.permissions import can_merge
from crm.services.merge import patient_merge
from portal.models import AuditEvent, ContactPreference, Patient
from tests.conftest import client_for
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _pair(clinic):
    a = PatientFactory(last_name="Петров", first_name="Иван", home_clinic=clinic, phone="")
    b = PatientFactory(last_name="Петрв", first_name="Иван", home_clinic=clinic, email="")
    return a, b


def test_a_merge_moves_every_record_and_leaves_a_tombstone(clinic_a, clinic_admin_a, dependant):
    a, b = _pair(clinic_a)
    for when in (datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),) * 3:
        LegacyVisit.objects.create(patient=b, clinic=clinic_a, visited_at=when)
    ContactPreference.objects.create(patient=a, channel="sms", marketing=True)
    ContactPreference.objects.create(patient=b, channel="sms", marketing=False)
    guardian = dependant.guardian_links.get().guardian
    guardian.dependant_links.update(dependant=b)
    DuplicateCandidate.objects.create(patient_a=a, patient_b=b, score=90, reason="similar_name")

    patient_merge(actor=clinic_admin_a, survivor=a, merged=b, take_from_merged=["last_name"])

    a.refresh_from_db()
    b.refresh_from_db()
    assert a.last_name == "Петрв"
    assert a.legacy_visits.count() == 3 and b.legacy_visits.count() == 0
    assert a.guardian_links.get().guardian == guardian
    assert ContactPreference.objects.get(patient=a, channel="sms").marketing is False
    assert b.merged_into == a and b.phone_bidx == "" and b.name_birth_bidx == ""
    assert DuplicateCandidate.objects.get().status == "merged"
    assert AuditEvent.objects.filter(object_id=str(b.public_id), action="update").exists()


def test_a_merge_refuses_the_same_profile_and_two_accounts(clinic_a, clinic_admin_a, patient):
    a, _b = _pair(clinic_a)
    with pytest.raises(MergeRefused):
        patient_merge(actor=clinic_admin_a, survivor=a, merged=a, take_from_merged=[])
    other = PatientFactory(user=patient.user.__class__.objects.create(email="x@example.test"))
    with pytest.raises(MergeRefused):
        patient_merge(actor=clinic_admin_a, survivor=patient, merged=other, take_from_merged=[])


def test_who_may_merge(clinic_a, clinic_b, registrar_a, registrar_b, network_admin, marketer):
    a, b = _pair(clinic_a)
    assert can_merge(registrar_a, a, b)
    assert not can_merge(registrar_b, a, b)
    assert can_merge(network_admin, a, b)
    url = f"/crm/merge/{a.public_id}/{b.public_id}/"
    assert client_for(registrar_a).get(url).status_code == 200
    assert client_for(registrar_b).get(url).status_code == 404
    assert client_for(marketer).get(url).status_code == 403
    response = client_for(registrar_a).post(url, {"survivor": "b", "last_name": "a"})
    assert response.status_code == 302
    assert Patient.objects.get(pk=a.pk).merged_into_id == b.pk
    assert Patient.objects.get(pk=b.pk).last_name == "Петров"
    assert timezone.now()


def test_import_pages_by_role(clinic_a, clinic_admin_a, registrar_a, network_admin, clinic_b):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = "Фамилия;Имя\nИванов;Иван\n".encode()
    upload = SimpleUploadedFile("x.csv", data)
    response = client_for(clinic_admin_a).post(
        "/crm/import/", {"clinic": clinic_a.pk, "file": upload}
    )
    assert response.status_code == 302
    job_url = response["Location"]
    page = client_for(clinic_admin_a).get(job_url)
    assert page.status_code == 200 and "Иванов" in page.content.decode()
    assert client_for(registrar_a).get(job_url).status_code == 403
    upload = SimpleUploadedFile("x.csv", data)
    wrong = client_for(clinic_admin_a).post("/crm/import/", {"clinic": clinic_b.pk, "file": upload})
    assert wrong.status_code == 400
    empty = client_for(clinic_admin_a).post(
        "/crm/import/", {"clinic": clinic_a.pk, "file": SimpleUploadedFile("x.csv", b"\n")}
    )
    assert empty.status_code == 400
    assert client_for(network_admin).get(job_url).status_code == 200


def test_a_job_of_another_clinic_is_not_found(clinic_a, clinic_b, clinic_admin_a):
    from crm.services.imports.jobs import import_job_create
    from portal.choices import Role
    from tests.factories import make_staff

    job = import_job_create(
        actor=clinic_admin_a, clinic=clinic_a, file_name="x.csv", data="ФИО\nИванов Иван\n".encode()
    )
    admin_b = make_staff(Role.CLINIC_ADMIN, clinic_b, email="clinicadmin-b@example.test")
    assert client_for(admin_b).get(f"/crm/import/{job.public_id}/").status_code == 404
    progress = client_for(clinic_admin_a).get(f"/crm/import/{job.public_id}/progress/")
    assert progress.status_code == 200


def test_the_duplicates_list_search_and_dismiss(clinic_a, registrar_a, registrar_b):
    a, b = _pair(clinic_a)
    pair = DuplicateCandidate.objects.create(patient_a=a, patient_b=b, score=90, reason="x")
    page = client_for(registrar_a).get("/crm/duplicates/")
    assert page.status_code == 200 and "Петрв" in page.content.decode()
    assert "Петрв" not in client_for(registrar_b).get("/crm/duplicates/").content.decode()
    url = f"/crm/duplicates/{pair.pk}/dismiss/"
    assert client_for(registrar_b).post(url).status_code == 404
    assert client_for(registrar_a).post(url).status_code == 302
    pair.refresh_from_db()
    assert pair.status == "dismissed"
    found = client_for(registrar_a).get("/crm/duplicates/", {"q": b.phone})
    assert found.status_code == 200 and "Петрв" in found.content.decode()
    bad = client_for(registrar_a).get("/crm/duplicates/", {"q": "zz"})
    assert bad.status_code == 200


def test_the_import_page_steps(clinic_a, clinic_admin_a, django_capture_on_commit_callbacks):
    from crm.models import ImportJob
    from crm.services.imports.jobs import import_job_create

    data = "Фамилия;Имя;Телефон\nИванов;Иван;+79161234567\n".encode()
    job = import_job_create(actor=clinic_admin_a, clinic=clinic_a, file_name="x.csv", data=data)
    url = f"/crm/import/{job.public_id}/"
    client = client_for(clinic_admin_a)
    twice = {"action": "map", "mapping-0": "last_name", "mapping-1": "last_name", "mapping-2": ""}
    response = client.post(url, twice)
    assert response.status_code == 400 and "Два столбца" in response.content.decode()
    assert client.post(url, {"action": "nonsense"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "dry_run"}).status_code == 302
    assert ImportJob.objects.get().status == "checked"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "run"}).status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and Patient.objects.count() == 1
    assert client.post(url, {"action": "cancel"}).status_code == 400
    assert client.post(url, {"action": "resume"}).status_code == 400


def test_a_refused_merge_explains_why(clinic_a, registrar_a):
    from portal.models import User

    a = PatientFactory(home_clinic=clinic_a, user=User.objects.create(email="a@example.test"))
    b = PatientFactory(home_clinic=clinic_a, user=User.objects.create(email="b@example.test"))
    response = client_for(registrar_a).post(f"/crm/merge/{a.public_id}/{b.public_id}/", {})
    assert response.status_code == 400 and "учётная запись" in response.content.decode()
    same = client_for(registrar_a).get(f"/crm/merge/{a.public_id}/{a.public_id}/")
    assert same.status_code == 404


def test_a_tombstone_stays_unfindable_after_a_reindex(clinic_a, clinic_admin_a):
    from portal.services.blind_indexes import blind_indexes_refresh

    a, b = _pair(clinic_a)
    patient_merge(actor=clinic_admin_a, survivor=a, merged=b, take_from_merged=[])
    Patient.objects.filter(pk=a.pk).update(name_birth_bidx="stale")
    assert blind_indexes_refresh() == 1
    b.refresh_from_db()
    assert (b.phone_bidx, b.email_bidx, b.name_birth_bidx) == ("", "", "")
    assert Patient.objects.get(pk=a.pk).name_birth_bidx not in ("", "stale")
