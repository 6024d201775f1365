"""The admin site: reference data for network administrators; never patient data."""

import pytest

from portal.models import Clinic

pytestmark = pytest.mark.django_db


def test_a_network_admin_opens_the_admin_and_edits_clinics(as_user, network_admin, clinic_a):
    client = as_user(network_admin)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/portal/clinic/" in index.content.decode()
    change_url = f"/admin/portal/clinic/{clinic_a.pk}/change/"
    assert client.get(change_url).status_code == 200
    assert client.get("/admin/scheduling/service/").status_code == 200


def test_a_network_admin_renames_a_clinic_through_the_admin(as_user, network_admin, clinic_a):
    client = as_user(network_admin)
    form = client.get(f"/admin/portal/clinic/{clinic_a.pk}/change/").context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {
            "name": "Медфронт Центр (новое имя)",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    response = client.post(f"/admin/portal/clinic/{clinic_a.pk}/change/", data)
    assert response.status_code == 302
    assert Clinic.objects.get(pk=clinic_a.pk).name == "Медфронт Центр (новое имя)"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/portal/patient/",
        "/admin/portal/auditevent/",
        "/admin/portal/consent/",
        "/admin/notifications/outboxmessage/",
    ],
)
def test_patient_data_is_not_in_the_admin(as_user, network_admin, url):
    assert as_user(network_admin).get(url).status_code == 404


def test_appointments_are_not_editable_by_network_admins_in_the_admin(as_user, network_admin):
    assert as_user(network_admin).get("/admin/scheduling/appointment/").status_code == 403


@pytest.mark.parametrize(
    "persona", ["registrar_a", "head_nurse_a", "doctor_a", "clinic_admin_a", "director", "marketer"]
)
def test_other_roles_are_sent_to_the_admin_login(as_user, persona, request):
    user = request.getfixturevalue(persona)
    response = as_user(user).get("/admin/portal/clinic/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_patients_and_anonymous_are_sent_to_the_admin_login(as_user, patient, client):
    for visitor in (as_user(patient.user), client):
        response = visitor.get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
