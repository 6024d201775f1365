"""Claiming a registrar-created card through a verified phone or e-mail."""

import re

import pytest

from notifications.models import OutboxMessage
from portal.models import AuditEvent, Patient, User
from portal.services.accounts import (
    patient_claim_by_verified_email,
    patient_claim_by_verified_phone,
)
from tests.factories import PatientFactory, UserFactory, make_staff
from tests.mail import sent_mails
from tests.portal.auth.conftest import STRONG_PASSWORD, signed_in_user_id

pytestmark = pytest.mark.django_db

CARD_PHONE = "+79145550101"
CARD_EMAIL = "card.owner@example.test"
LINK = re.compile(r"https?://testserver(/accounts/[^\s]+/)")


@pytest.fixture
def card(registrar_a):
    """A card the registrar created at the desk; nobody has claimed it."""
    return PatientFactory(phone=CARD_PHONE, email=CARD_EMAIL, created_by=registrar_a)


# --- The services ------------------------------------------------------------------------------


def test_a_verified_phone_claims_the_one_matching_card_and_is_audited(card):
    user = UserFactory()
    claimed = patient_claim_by_verified_phone(user=user, phone="8 914 555-01-01")
    assert claimed == card
    card.refresh_from_db()
    assert card.user == user
    assert card.phone_verified_at is not None
    event = AuditEvent.objects.get(action="claim")
    assert event.actor_id == user.pk
    assert event.object_id == str(card.public_id)
    assert event.patient_ids == [str(card.public_id)]
    assert "user" in event.changed_fields


def test_a_verified_e_mail_claims_the_one_matching_card(card):
    user = UserFactory()
    assert patient_claim_by_verified_email(user=user, email="Card.Owner@EXAMPLE.test") == card
    card.refresh_from_db()
    assert card.user == user
    assert card.phone_verified_at is None


def test_two_matching_cards_are_not_claimed(card):
    PatientFactory(phone=CARD_PHONE, email=CARD_EMAIL)
    user = UserFactory()
    assert patient_claim_by_verified_phone(user=user, phone=CARD_PHONE) is None
    assert patient_claim_by_verified_email(user=user, email=CARD_EMAIL) is None
    assert not Patient.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="claim").exists()


def test_a_card_that_already_has_a_login_is_not_claimed(card):
    owner = UserFactory()
    card.user = owner
    card.save(update_fields=["user"])
    intruder = UserFactory()
    assert patient_claim_by_verified_phone(user=intruder, phone=CARD_PHONE) is None
    card.refresh_from_db()
    assert card.user == owner


def test_a_user_with_a_profile_claims_nothing_more(card, patient):
    assert patient_claim_by_verified_phone(user=patient.user, phone=CARD_PHONE) is None
    card.refresh_from_db()
    assert card.user is None


def test_staff_do_not_become_patients(card, clinic_a):
    from portal.choices import Role

    doctor = make_staff(Role.DOCTOR, clinic_a)
    assert patient_claim_by_verified_email(user=doctor, email=CARD_EMAIL) is None


def test_an_anonymised_card_is_not_claimed(card):
    from django.utils import timezone

    card.anonymised_at = timezone.now()
    card.save(update_fields=["anonymised_at"])
    assert patient_claim_by_verified_phone(user=UserFactory(), phone=CARD_PHONE) is None


def test_bad_values_claim_nothing(card):
    user = UserFactory()
    assert patient_claim_by_verified_phone(user=user, phone="nonsense") is None
    assert patient_claim_by_verified_email(user=user, email="not-an-email") is None


# --- Through the sign-up pages -----------------------------------------------------------------


def test_signing_up_with_the_card_phone_claims_it_after_the_sms_code(client, card):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.login@example.test",
            "phone": "8 914 555 01 01",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/phone/verify/"
    message = OutboxMessage.objects.get(event="auth.verify_phone")
    assert message.to_address == CARD_PHONE
    user = User.objects.get(email="new.login@example.test")
    card.refresh_from_db()
    assert card.user is None  # not before the code

    response = client.post("/accounts/phone/verify/", {"code": message.context["code"]})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.user == user
    assert card.phone_verified_at is not None
    # The e-mail still has to be confirmed before the account can be used.
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None


def test_confirming_the_card_e_mail_claims_it_and_lands_home(client, card):
    client.post(
        "/accounts/signup/",
        {"email": CARD_EMAIL, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    path = LINK.search(sent_mails()[0].body).group(1)
    response = client.post(path)
    user = User.objects.get(email=CARD_EMAIL)
    card.refresh_from_db()
    assert card.user == user
    assert response["Location"] == "/home/"
    assert AuditEvent.objects.filter(action="claim", actor_id=user.pk).count() == 1


def test_a_confirmed_e_mail_matching_two_cards_goes_to_onboarding(client, card):
    PatientFactory(email=CARD_EMAIL)
    client.post(
        "/accounts/signup/",
        {"email": CARD_EMAIL, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    response = client.post(LINK.search(sent_mails()[0].body).group(1))
    assert response["Location"] == "/me/welcome/"
    assert not Patient.objects.filter(user__email=CARD_EMAIL).exists()


def test_a_card_created_after_sign_up_is_claimed_at_the_next_sign_in(client, login_user):
    card = PatientFactory(email=login_user.email)
    response = client.post(
        "/accounts/login/", {"login": login_user.email, "password": "Medfront-test-2026"}
    )
    assert response["Location"] == "/home/"
    card.refresh_from_db()
    assert card.user == login_user


def test_a_signed_in_login_without_a_profile_claims_the_card_by_confirming_its_phone(
    card, login_user
):
    from django.test import Client

    client = Client()
    client.force_login(login_user)
    assert client.get("/accounts/phone/change/").status_code == 200
    response = client.post("/accounts/phone/change/", {"phone": "+7 914 555-01-01"})
    assert response["Location"] == "/accounts/phone/verify/"
    code = OutboxMessage.objects.get(event="auth.verify_phone").context["code"]
    client.post("/accounts/phone/verify/", {"code": code})
    card.refresh_from_db()
    assert card.user == login_user
    assert card.phone_verified_at is not None
    assert client.get("/me/welcome/")["Location"] == "/home/"


def test_a_patient_confirms_a_new_phone_on_their_own_profile(patient):
    from django.test import Client

    client = Client()
    client.force_login(patient.user)
    client.post("/accounts/phone/change/", {"phone": "+79145550202"})
    message = OutboxMessage.objects.get(event="auth.verify_phone")
    assert message.to_address == "+79145550202"
    client.post("/accounts/phone/verify/", {"code": message.context["code"]})
    patient.refresh_from_db()
    assert patient.phone == "+79145550202"
    assert patient.phone_verified_at is not None
    assert AuditEvent.objects.filter(action="update", object_id=str(patient.public_id)).exists()
