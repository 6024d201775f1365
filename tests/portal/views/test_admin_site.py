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


def test_the_admin_history_names_a_login_by_its_public_id_not_its_name(
    as_user, network_admin, registrar_a
):
    from django.contrib.admin.models import LogEntry

    client = as_user(network_admin)
    url = f"/admin/portal/user/{registrar_a.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}
    data.update(
        {
            "display_name": "Агафья Регистраторова",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    registrar_a.refresh_from_db()
    assert registrar_a.display_name == "Агафья Регистраторова"
    entry = LogEntry.objects.get(object_id=str(registrar_a.pk))
    assert entry.object_repr == str(registrar_a.public_id)
    assert "Агафья" not in entry.change_message


def test_adding_and_deleting_a_login_leave_no_name_in_the_history(as_user, network_admin):
    from django.contrib.admin.models import LogEntry

    from portal.models import User

    client = as_user(network_admin)
    password = "Kx8#mPq2vL9z-Medfront"
    added = client.post(
        "/admin/portal/user/add/",
        {
            "email": "agafya@example.test",
            "password1": password,
            "password2": password,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert added.status_code == 302
    user = User.objects.get(email="agafya@example.test")
    User.objects.filter(pk=user.pk).update(display_name="Агафья Регистраторова")
    deleted = client.post(f"/admin/portal/user/{user.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    entries = LogEntry.objects.filter(object_id=str(user.pk))
    assert entries.count() == 2
    assert {e.object_repr for e in entries} == {str(user.public_id)}
