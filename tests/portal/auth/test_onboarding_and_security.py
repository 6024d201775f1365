"""The onboarding page (a new patient's own profile) and the Security page."""

import datetime

import pytest
from django.db import connection
from django.test import Client

from portal.auth import phone_session
from portal.choices import Role
from portal.models import AuditEvent, Patient
from tests.factories import make_staff
from tests.portal.auth.conftest import sign_in

pytestmark = pytest.mark.django_db

URL = "/me/welcome/"
VALID = {
    "last_name": "Петрова",
    "first_name": "Ольга",
    "middle_name": "",
    "birth_date": "1990-05-17",
    "sex": "female",
    "phone": "8 914 555-77-66",
}


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_new_login_is_sent_to_onboarding_after_sign_in(client, login_user):
    response = sign_in(client, login_user.email)
    assert response["Location"] == URL


def test_onboarding_creates_an_encrypted_profile_linked_to_the_login(login_user):
    client = client_of(login_user)
    assert client.get(URL).status_code == 200
    response = client.post(URL, VALID)
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    patient = Patient.objects.get(user=login_user)
    assert (patient.last_name, patient.first_name) == ("Петрова", "Ольга")
    assert patient.birth_date == datetime.date(1990, 5, 17)
    assert patient.phone == "+79145557766"
    assert patient.phone_verified_at is None  # typed, not proven
    assert patient.email == login_user.email
    assert patient.phone_bidx and patient.email_bidx and patient.name_birth_bidx
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name, first_name, phone, email FROM portal_patient WHERE id = %s",
            [patient.pk],
        )
        raw = cursor.fetchone()
    assert "Петрова" not in raw[0] and "Ольга" not in raw[1]
    assert "+79145557766" not in raw[2] and login_user.email not in raw[3]
    event = AuditEvent.objects.get(action="create", object_id=str(patient.public_id))
    assert event.actor_id == login_user.pk
    # The login keeps no name of its own.
    login_user.refresh_from_db()
    assert (login_user.first_name, login_user.last_name) == ("", "")


def test_a_phone_proven_by_sms_before_onboarding_counts_as_verified(login_user, rf):
    client = client_of(login_user)
    session = client.session
    request = rf.get("/")
    request.session = session
    phone_session.remember(request, user=login_user, phone="+79145557766", verified=True)
    session.save()
    client.post(URL, VALID)
    patient = Patient.objects.get(user=login_user)
    assert patient.phone_verified_at is not None
    assert phone_session.SESSION_KEY not in client.session
    assert "+79145557766" not in str(session.load())  # kept encrypted in the session


@pytest.mark.parametrize(
    ("field", "value"),
    [("last_name", ""), ("birth_date", "2999-01-01"), ("birth_date", "17.05"), ("phone", "12")],
)
def test_bad_input_is_shown_and_nothing_is_created(login_user, field, value):
    response = client_of(login_user).post(URL, {**VALID, field: value})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Patient.objects.filter(user=login_user).exists()


def test_a_patient_who_has_a_profile_is_sent_home(as_user, patient):
    response = as_user(patient.user).get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/home/"


@pytest.mark.parametrize("role", list(Role))
def test_staff_skip_onboarding(as_user, clinic_a, role):
    staff = make_staff(role, clinic_a)
    client = as_user(staff)
    assert client.get(URL)["Location"] == "/home/"
    assert client.post(URL, VALID)["Location"] == "/home/"
    assert not Patient.objects.filter(user=staff).exists()


def test_anonymous_visitors_are_asked_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- Security ----------------------------------------------------------------------------------


def test_a_patient_sees_their_security_settings(as_user, patient):
    response = as_user(patient.user).get("/me/security/")
    assert response.status_code == 200
    html = response.content.decode()
    for url in ("/accounts/2fa/totp/activate/", "/accounts/email/", "/accounts/password/change/"):
        assert url in html
    assert "/accounts/phone/change/" in html


def test_staff_see_security_without_the_phone_card(as_user, registrar_a):
    response = as_user(registrar_a).get("/me/security/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/accounts/2fa/" in html
    assert "/accounts/phone/change/" not in html


def test_the_navigation_links_to_security_for_every_login(as_user, patient, director):
    for user in (patient.user, director):
        assert 'href="/me/security/"' in as_user(user).get("/me/security/").content.decode()


def test_anonymous_visitors_cannot_open_security(client):
    response = client.get("/me/security/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_phone_confirmed_at_sign_up_reaches_the_new_profile_verified(client):
    import re

    from notifications.models import OutboxMessage
    from tests.mail import sent_mails
    from tests.portal.auth.conftest import STRONG_PASSWORD

    client.post(
        "/accounts/signup/",
        {
            "email": "fresh@example.test",
            "phone": "+79145554433",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    code = OutboxMessage.objects.get(event="auth.verify_phone").context["code"]
    assert client.post("/accounts/phone/verify/", {"code": code}).status_code == 302
    link = re.search(r"https?://testserver(/accounts/[^\s]+/)", sent_mails()[0].body).group(1)
    assert client.post(link)["Location"] == URL
    page = client.get(URL)
    assert 'value="+79145554433"' in page.content.decode()
    client.post(URL, {**VALID, "phone": "+79145554433"})
    patient = Patient.objects.get(user__email="fresh@example.test")
    assert patient.phone == "+79145554433"
    assert patient.phone_verified_at is not None


def test_onboarding_asks_for_the_home_clinic(login_user, clinic_a, clinic_b):
    client = client_of(login_user)
    page = client.get(URL).content.decode()
    assert 'name="home_clinic"' in page
    assert "Иркутск — " in page or "Москва — " in page
    response = client.post(URL, VALID)
    assert response.status_code == 200
    assert response.context["form"].errors["home_clinic"]
    assert not Patient.objects.filter(user=login_user).exists()
    response = client.post(URL, {**VALID, "home_clinic": clinic_b.pk})
    assert response.status_code == 302
    assert Patient.objects.get(user=login_user).home_clinic == clinic_b


def test_onboarding_preselects_the_only_clinic(login_user, clinic_a):
    client = client_of(login_user)
    form = client.get(URL).context["form"]
    assert form["home_clinic"].value() == clinic_a.pk


def test_onboarding_refuses_an_unknown_or_closed_clinic(login_user, clinic_a):
    closed = type(clinic_a).objects.create(
        slug="closed",
        name="Закрыта",
        legal_entity=clinic_a.legal_entity,
        city="Москва",
        address="—",
        timezone="Europe/Moscow",
        is_active=False,
    )
    client = client_of(login_user)
    for value in (closed.pk, 999999, "abc"):
        response = client.post(URL, {**VALID, "home_clinic": value})
        assert response.status_code == 200
        assert response.context["form"].errors["home_clinic"]
    assert not Patient.objects.filter(user=login_user).exists()


def test_a_patient_without_a_home_clinic_is_asked_on_the_home_page(patient, as_user, clinic_a):
    patient.home_clinic = None
    patient.save(update_fields=["home_clinic"])
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    page = client.get("/home/").content.decode()
    assert "Choose my clinic" in page and "/me/edit/#id_home_clinic" in page
    patient.home_clinic = clinic_a
    patient.save(update_fields=["home_clinic"])
    assert "Choose my clinic" not in client.get("/home/").content.decode()


def test_a_network_without_clinics_asks_nobody_for_one(patient, as_user):
    patient.home_clinic = None
    patient.save(update_fields=["home_clinic"])
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    assert "Choose my clinic" not in client.get("/home/").content.decode()
