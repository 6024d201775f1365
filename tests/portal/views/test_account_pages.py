"""The patient's account pages: permission matrix, profile and family forms, consents."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from portal.choices import ConsentPurpose, SignatureMethod, SignerKind
from portal.consent_texts import ensure_consent_documents
from portal.models import AuditEvent, Consent, FamilyLink, Patient
from portal.views.account_pages import CHALLENGE_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PD = ConsentPurpose.PERSONAL_DATA
ADS = ConsentPurpose.ADVERTISING


@pytest.fixture(autouse=True)
def documents(db):
    ensure_consent_documents()


def self_urls():
    return [
        reverse("portal:profile"),
        reverse("portal:profile_edit"),
        reverse("portal:family"),
        reverse("portal:family_add"),
        reverse("portal:consents"),
    ]


def dependant_urls(person):
    return [
        reverse("portal:dependant", args=[person.public_id]),
        reverse("portal:dependant_edit", args=[person.public_id]),
        reverse("portal:consent_sign", args=[person.public_id, ADS]),
        reverse("portal:consents") + f"?patient={person.public_id}",
    ]


def post_urls(person):
    return [
        reverse("portal:consent_withdraw", args=[person.public_id, ADS]),
        reverse("portal:dependant_unlink", args=[person.public_id]),
    ]


# --- Permission matrix ---------------------------------------------------------------------


def test_the_owner_reaches_every_own_page(patient, as_user):
    client = as_user(patient.user)
    for url in [*self_urls(), reverse("portal:consent_sign", args=[patient.public_id, PD])]:
        assert client.get(url).status_code == 200, url


def test_a_guardian_reaches_the_dependants_pages(patient, dependant, as_user):
    client = as_user(patient.user)
    for url in dependant_urls(dependant):
        response = client.get(url)
        assert response.status_code == 200, url
        assert dependant.first_name in response.content.decode()


def test_another_patient_gets_404_for_someone_elses_dependant(
    patient, dependant, other_patient, as_user
):
    client = as_user(other_patient.user)
    for url in [*dependant_urls(dependant), *dependant_urls(patient)]:
        assert client.get(url).status_code == 404, url
    for url in post_urls(dependant):
        assert client.post(url).status_code == 404, url
    assert FamilyLink.objects.filter(guardian=patient, dependant=dependant).exists()


def test_a_dependant_page_for_oneself_or_an_unknown_id_is_404(patient, as_user):
    client = as_user(patient.user)
    assert client.get(reverse("portal:dependant", args=[patient.public_id])).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(reverse("portal:dependant", args=[unknown])).status_code == 404
    assert client.get(reverse("portal:consents") + "?patient=not-a-uuid").status_code == 404
    assert client.get(reverse("portal:consent_sign", args=[unknown, PD])).status_code == 404


def test_an_unknown_purpose_is_404(patient, as_user):
    client = as_user(patient.user)
    url = f"/me/consents/{patient.public_id}/everything/"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "director", "network_admin"])
def test_staff_without_a_patient_profile_get_403_on_account_pages(
    request, persona, dependant, as_user
):
    client = as_user(request.getfixturevalue(persona))
    for url in [*self_urls(), *dependant_urls(dependant)]:
        assert client.get(url).status_code == 403, url
    for url in post_urls(dependant):
        assert client.post(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(dependant, client):
    login = reverse("account_login")
    for url in [*self_urls(), *dependant_urls(dependant)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login)


def test_a_user_without_profile_or_role_goes_to_onboarding(as_user):
    response = as_user(UserFactory()).get(reverse("portal:profile"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:onboarding")


def test_an_expired_family_link_closes_the_dependants_pages(patient, dependant, as_user):
    FamilyLink.objects.filter(dependant=dependant).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    client = as_user(patient.user)
    assert client.get(reverse("portal:dependant", args=[dependant.public_id])).status_code == 404


# --- Profile -------------------------------------------------------------------------------


def profile_data(patient, **changes):
    data = {
        "last_name": patient.last_name,
        "first_name": patient.first_name,
        "middle_name": patient.middle_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else "",
        "sex": patient.sex,
        "phone": patient.phone,
        "email": patient.email,
        "address": "",
        "snils": "",
        "oms_policy": "",
        "home_clinic": "",
        "preferred_language": "",
    }
    data.update(changes)
    return data


def test_the_profile_shows_locale_formatted_dates_and_phones(patient, as_user):
    patient.birth_date = datetime.date(1990, 3, 14)
    patient.phone = "+79145551234"
    patient.save()
    client = as_user(patient.user)

    client.cookies["django_language"] = "ru"
    ru = client.get(reverse("portal:profile")).content.decode()
    client.cookies["django_language"] = "en"
    en = client.get(reverse("portal:profile")).content.decode()

    assert "14 марта 1990" in ru
    assert "14 Mar 1990" in en  # unambiguous: config/formats/en
    assert "+7 914 555-12-34" in ru and "+7 914 555-12-34" in en


def test_editing_the_profile_saves_and_is_audited(patient, as_user):
    client = as_user(patient.user)
    response = client.post(
        reverse("portal:profile_edit"),
        profile_data(patient, first_name="Анна-Мария", phone="8 (914) 555-12-34"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:profile")
    patient.refresh_from_db()
    assert patient.first_name == "Анна-Мария"
    assert patient.phone == "+79145551234"
    event = AuditEvent.objects.filter(object_id=str(patient.public_id), action="update").get()
    assert set(event.changed_fields) == {"first_name", "phone"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"last_name": "Я" * 101}, "last_name", "at most 100 characters"),
        ({"birth_date": "2999-01-01"}, "birth_date", "The date of birth cannot be in the future."),
        ({"phone": "12-34"}, "phone", "Enter a valid phone number."),
        ({"birth_date": "14/14/1990"}, "birth_date", "Enter a valid date."),
        ({"first_name": ""}, "first_name", "This field is required."),
    ],
)
def test_bad_profile_input_shows_an_error_and_saves_nothing(
    patient, as_user, changes, field, message
):
    before = Patient.objects.get(pk=patient.pk)
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("portal:profile_edit"), profile_data(patient, **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert 'aria-invalid="true"' in response.content.decode()
    after = Patient.objects.get(pk=patient.pk)
    assert (after.last_name, after.first_name, after.birth_date, after.phone) == (
        before.last_name,
        before.first_name,
        before.birth_date,
        before.phone,
    )
    assert not AuditEvent.objects.filter(action="update").exists()


def test_errors_are_translated_into_russian(patient, as_user):
    client = as_user(patient.user)
    client.cookies["django_language"] = "ru"
    response = client.post(
        reverse("portal:profile_edit"), profile_data(patient, last_name="Я" * 101)
    )
    assert "не более 100 символов" in " ".join(response.context["form"].errors["last_name"])


def test_a_guardian_edits_the_dependants_profile(patient, dependant, as_user):
    client = as_user(patient.user)
    url = reverse("portal:dependant_edit", args=[dependant.public_id])
    response = client.post(url, profile_data(dependant, first_name="Михаил"))
    assert response.status_code == 302
    dependant.refresh_from_db()
    assert dependant.first_name == "Михаил"


# --- Family --------------------------------------------------------------------------------


def child_data(**changes):
    today = timezone.localdate()
    data = {
        "relation": "child",
        "last_name": "Иванова",
        "first_name": "Соня",
        "middle_name": "",
        "birth_date": today.replace(year=today.year - 6).isoformat(),
        "sex": "female",
        "legal_basis": "parent_of_minor",
        "basis_document": "Свидетельство о рождении II-СТ 123456",
        "valid_until": "",
    }
    data.update(changes)
    return data


def test_adding_a_child_creates_a_profile_and_a_link(patient, as_user):
    client = as_user(patient.user)
    response = client.post(reverse("portal:family_add"), child_data())
    link = FamilyLink.objects.filter(guardian=patient).latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dependant", args=[link.dependant.public_id])
    assert link.dependant.first_name == "Соня"
    assert link.valid_until is not None
    page = client.get(reverse("portal:family")).content.decode()
    assert "Соня" in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last_name": "Я" * 101}, "last_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": ""}, "birth_date"),
        ({"relation": "boss"}, "relation"),
        ({"birth_date": "1970-01-01"}, "legal_basis"),
        ({"basis_document": "x" * 201}, "basis_document"),
    ],
)
def test_bad_family_input_saves_nothing(patient, as_user, changes, field):
    counts = (Patient.objects.count(), FamilyLink.objects.count())
    response = as_user(patient.user).post(reverse("portal:family_add"), child_data(**changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert (Patient.objects.count(), FamilyLink.objects.count()) == counts


def test_the_guardian_removes_a_dependant(patient, dependant, as_user):
    client = as_user(patient.user)
    response = client.post(reverse("portal:dependant_unlink", args=[dependant.public_id]))
    assert response.status_code == 302
    assert not FamilyLink.objects.filter(guardian=patient).exists()
    assert Patient.objects.filter(pk=dependant.pk).exists()
    assert client.get(reverse("portal:dependant", args=[dependant.public_id])).status_code == 404


def test_the_family_list_has_a_fixed_query_budget(patient, as_user, django_assert_max_num_queries):
    client = as_user(patient.user)
    client.get(reverse("portal:family"))  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:family"))
    assert response.status_code == 200


# --- Consents ------------------------------------------------------------------------------

BROWSER = {"REMOTE_ADDR": "198.51.100.23", "HTTP_USER_AGENT": "Mozilla/5.0 (Test phone)"}


def test_a_patient_without_a_phone_signs_in_the_account(patient, as_user):
    Patient.objects.filter(pk=patient.pk).update(phone="")
    patient.refresh_from_db()
    client = as_user(patient.user)
    url = reverse("portal:consent_sign", args=[patient.public_id, ADS])

    response = client.post(url, {"action": "account", "agree": "on"}, **BROWSER)

    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient, purpose=ADS)
    assert consent.signature_method == SignatureMethod.ACCOUNT_CONFIRMATION
    assert consent.signer_kind == SignerKind.PATIENT
    assert consent.ip_address == "198.51.100.23"
    assert consent.user_agent == "Mozilla/5.0 (Test phone)"
    assert consent.document_sha256 == consent.document.sha256
    assert consent.document_version == "1.0"


def test_signing_needs_the_agreement_box(patient, as_user):
    Patient.objects.filter(pk=patient.pk).update(phone="")
    client = as_user(patient.user)
    url = reverse("portal:consent_sign", args=[patient.public_id, ADS])
    response = client.post(url, {"action": "account"})
    assert response.status_code == 200
    assert response.context["form"].errors["agree"]
    assert not Consent.objects.exists()


def test_sms_code_signing_from_the_page(patient, as_user):
    client = as_user(patient.user)
    url = reverse("portal:consent_sign", args=[patient.public_id, ADS])

    assert client.post(url, {"action": "send"}).status_code == 302
    message = OutboxMessage.objects.get(event="consent.sign_code", patient=patient)
    code = message.context["code"]
    assert code not in str(client.session[CHALLENGE_KEY])

    wrong = "000000" if code != "000000" else "111111"
    response = client.post(url, {"action": "confirm", "agree": "on", "code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert client.session[CHALLENGE_KEY]["attempts"] == 1
    assert not Consent.objects.exists()

    response = client.post(url, {"action": "confirm", "agree": "on", "code": code}, **BROWSER)
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient, purpose=ADS)
    assert consent.signature_method == SignatureMethod.SMS_CODE
    assert consent.ip_address == "198.51.100.23"
    assert CHALLENGE_KEY not in client.session


def test_a_guardian_signs_for_a_dependant_with_a_code_to_their_own_phone(
    patient, dependant, as_user
):
    client = as_user(patient.user)
    url = reverse("portal:consent_sign", args=[dependant.public_id, PD])
    client.post(url, {"action": "send"})
    code = OutboxMessage.objects.get(event="consent.sign_code").context["code"]
    assert OutboxMessage.objects.get(event="consent.sign_code").to_address == patient.phone

    response = client.post(url, {"action": "confirm", "agree": "on", "code": code})

    assert response.status_code == 302
    assert response["Location"].endswith(f"?patient={dependant.public_id}")
    consent = Consent.objects.get(patient=dependant, purpose=PD)
    assert consent.signer_kind == SignerKind.REPRESENTATIVE
    assert consent.representative == patient


def test_withdrawing_twice_is_a_clean_error(patient, as_user):
    Patient.objects.filter(pk=patient.pk).update(phone="")
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    client.post(
        reverse("portal:consent_sign", args=[patient.public_id, ADS]),
        {"action": "account", "agree": "on"},
    )
    url = reverse("portal:consent_withdraw", args=[patient.public_id, ADS])

    first = client.post(url, follow=True)
    second = client.post(url, follow=True)

    assert Consent.objects.get(patient=patient, purpose=ADS).withdrawn_at is not None
    assert "Consent withdrawn." in first.content.decode()
    assert "nothing to withdraw" in second.content.decode()
    assert second.status_code == 200


def test_withdrawal_over_htmx_swaps_the_card(patient, as_user):
    Patient.objects.filter(pk=patient.pk).update(phone="")
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    client.post(
        reverse("portal:consent_sign", args=[patient.public_id, ADS]),
        {"action": "account", "agree": "on"},
    )
    url = reverse("portal:consent_withdraw", args=[patient.public_id, ADS])

    response = client.post(url, HTTP_HX_REQUEST="true")
    again = client.post(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<article") and 'id="consent-advertising"' in body
    assert "Withdrawn" in body
    assert "note-error" in again.content.decode()


def test_the_consents_page_lists_every_purpose_within_a_query_budget(
    patient, as_user, django_assert_max_num_queries
):
    client = as_user(patient.user)
    client.get(reverse("portal:consents"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:consents"))
    assert len(response.context["lines"]) == len(ConsentPurpose)
    for purpose in ConsentPurpose.values:
        assert f'id="consent-{purpose}"' in response.content.decode()


def test_an_already_signed_consent_shows_the_text_and_a_withdraw_button(patient, as_user):
    Patient.objects.filter(pk=patient.pk).update(phone="")
    client = as_user(patient.user)
    client.cookies["django_language"] = "en"
    url = reverse("portal:consent_sign", args=[patient.public_id, PD])
    client.post(url, {"action": "account", "agree": "on"})

    page = client.get(url).content.decode()

    assert "Withdraw consent" in page
    assert "Consent to the processing of personal data" in page
    # A second signature of the same version is refused cleanly.
    response = client.post(url, {"action": "account", "agree": "on"}, follow=True)
    assert "already signed" in response.content.decode()
    assert Consent.objects.filter(patient=patient, purpose=PD).count() == 1


def test_a_client_with_no_session_cannot_post_a_withdrawal(patient):
    response = Client().post(reverse("portal:consent_withdraw", args=[patient.public_id, ADS]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
