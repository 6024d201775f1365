"""TOTP for everyone who wants it; required for every staff role."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.test import override_settings

from portal.auth.mfa_adapter import MFAAdapter
from portal.choices import Role
from portal.crypto import decrypt_text
from tests.factories import DEMO_PASSWORD, make_staff
from tests.portal.auth.conftest import sign_in, signed_in_user_id, staff_client, verify_email

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"
PAGE = "/me/security/"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def current_code(secret: str) -> str:
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_without_an_authenticator_is_sent_to_set_one_up(clinic_a, role):
    staff = make_staff(role, clinic_a)
    response = staff_client(staff).get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE


def test_a_staff_member_is_told_why(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a)
    page = staff_client(staff).get(PAGE, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "two-factor" in page.content.decode()


def test_htmx_requests_get_an_hx_redirect(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a)
    response = staff_client(staff).get(PAGE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == ACTIVATE


def test_admin_site_users_are_staff_too(db):
    from tests.factories import UserFactory

    admin = UserFactory(is_staff=True)
    assert staff_client(admin).get(PAGE)["Location"] == ACTIVATE


@pytest.mark.parametrize(
    "path", ["/accounts/2fa/", "/accounts/logout/", "/accounts/email/", "/static/css/accounts.css"]
)
def test_the_pages_needed_to_set_it_up_stay_open(clinic_a, path):
    staff = make_staff(Role.DOCTOR, clinic_a)
    response = staff_client(staff).get(path)
    assert response.get("Location") != ACTIVATE


def test_the_api_is_not_redirected_but_refused_with_a_problem(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a)
    response = staff_client(staff).get("/api/v1/me/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


def test_patients_are_not_required_to_use_it(as_user, patient):
    assert as_user(patient.user).get(PAGE).status_code == 200


def test_staff_whose_session_passed_the_app_pass(clinic_a, as_user):
    staff = make_staff(Role.REGISTRAR, clinic_a)
    assert as_user(staff).get(PAGE).status_code == 200


def test_a_staff_session_that_skipped_the_app_must_enter_its_code(clinic_a):
    # The account has an authenticator, but this session never passed it (an entry point that
    # skipped allauth's MFA step): the account's authenticator is not enough.
    staff = make_staff(Role.REGISTRAR, clinic_a)
    TOTP.activate(staff, SECRET)
    response = staff_client(staff).get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fme%2Fsecurity%2F"


def test_demo_staff_are_exempt_only_with_the_setting(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, is_demo=True)
    client = staff_client(staff)
    with override_settings(MFA_EXEMPT_DEMO_STAFF=True):
        assert client.get(PAGE).status_code == 200
    with override_settings(MFA_EXEMPT_DEMO_STAFF=False):
        assert client.get(PAGE)["Location"] == ACTIVATE


def test_the_exemption_does_not_cover_real_staff(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a)
    with override_settings(MFA_EXEMPT_DEMO_STAFF=True):
        assert staff_client(staff).get(PAGE)["Location"] == ACTIVATE


def test_a_staff_member_sets_up_the_app_and_then_works(client, clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    sign_in(client, staff.email)
    assert client.get(PAGE)["Location"] == ACTIVATE
    # The password typed at sign-in counts: no second prompt right away.
    page = client.get(ACTIVATE)
    assert page.status_code == 200
    assert 'class="qr"' in page.content.decode()
    secret = client.session["mfa.totp.secret"]
    response = client.post(ACTIVATE, {"code": current_code(secret)})
    assert response.status_code == 302
    authenticator = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    # The secret is stored encrypted, and still validates codes.
    assert authenticator.data["secret"] != secret
    assert decrypt_text(authenticator.data["secret"]) == secret
    # The valid activation code proved the app for this session: no second code right away.
    assert client.get(PAGE).status_code == 200


def test_the_password_typed_at_sign_in_counts_only_within_the_reauthentication_timeout(
    client, clinic_a, monkeypatch
):
    import time

    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    sign_in(client, staff.email)
    signed_in_at = time.time()
    monkeypatch.setattr(time, "time", lambda: signed_in_at + 301)  # allauth's default is 300 s
    assert client.get(ACTIVATE)["Location"].startswith("/accounts/reauthenticate/")


def test_a_patient_who_just_signed_in_is_still_asked_for_the_password_before_mfa_setup(
    client, patient
):
    # MFA is optional for patients: allauth's usual reauthentication applies. The pass is only
    # for staff, whom the middleware sends to set it up right after signing in.
    user = patient.user
    verify_email(user)
    sign_in(client, user.email)
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )


def test_a_wrong_activation_code_activates_nothing(client, clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    sign_in(client, staff.email)
    client.get(ACTIVATE)
    response = client.post(ACTIVATE, {"code": "000000"})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=staff).exists()


def test_signing_in_with_an_authenticator_asks_for_the_code(client, clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    TOTP.activate(staff, SECRET)
    response = sign_in(client, staff.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.session.get("_auth_user_id") is None
    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(SECRET)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_a_patient_may_turn_it_on_and_off(patient):
    TOTP.activate(patient.user, SECRET)
    authenticator = Authenticator.objects.get(user=patient.user)
    assert MFAAdapter().can_delete_authenticator(authenticator) is True


def test_staff_cannot_turn_it_off(clinic_a):
    staff = make_staff(Role.DOCTOR, clinic_a)
    TOTP.activate(staff, SECRET)
    authenticator = Authenticator.objects.get(user=staff)
    assert MFAAdapter().can_delete_authenticator(authenticator) is False


def test_a_session_without_a_fresh_password_is_asked_for_it_before_activation(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    client = staff_client(staff)
    assert client.get(ACTIVATE)["Location"].startswith("/accounts/reauthenticate/")
    reauth = client.post(f"/accounts/reauthenticate/?next={ACTIVATE}", {"password": DEMO_PASSWORD})
    assert reauth["Location"] == ACTIVATE
    assert client.get(ACTIVATE).status_code == 200
