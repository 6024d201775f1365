"""Landing page, each role's home page, the language switch and locale formatting."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from portal.choices import Role
from portal.consent_texts import ensure_consent_documents
from portal.templatetags.medfront import age, language_names, rub
from tests.factories import ClinicFactory, PatientWithLoginFactory, UserFactory, make_staff

pytestmark = pytest.mark.django_db

HOME = "/home/"


def page(client, url=HOME, language="en"):
    client.cookies["django_language"] = language
    response = client.get(url)
    return response, response.content.decode()


# --- Landing -------------------------------------------------------------------------------


def test_the_landing_page_groups_clinics_by_city_with_phone_and_time_zone(
    client, clinic_a, clinic_b, django_assert_max_num_queries
):
    ClinicFactory(name="Закрытая клиника", is_active=False)
    with django_assert_max_num_queries(2):
        response, body = page(client, "/")
    assert response.status_code == 200
    assert [city.name for city in response.context["cities"]] == ["Иркутск", "Москва"]
    assert "Медфронт Центр" in body and "Медфронт Арбат" in body
    assert "Закрытая клиника" not in body
    assert "+7 395 200-00-00" in body  # the clinic phone, formatted
    assert "UTC+8" in body and "Asia/Irkutsk" in body and "UTC+3" in body
    assert reverse("account_login") in body and reverse("account_signup") in body


def test_signed_in_visitors_get_a_link_to_their_account(patient, as_user):
    _response, body = page(as_user(patient.user), "/")
    assert "Go to my account" in body
    assert reverse("account_signup") not in body


# --- Home pages per role -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_patient_home_shows_profile_family_and_consents_needing_attention(patient, as_user):
    ensure_consent_documents()
    response, body = page(as_user(patient.user))
    assert response.status_code == 200
    assert response.templates[0].name == "portal/home/patient.html"
    assert "Hello, Анна!" in body
    assert "Миша" in body  # the dependant
    assert [line.purpose for line in response.context["attention"]] == ["personal_data"]
    assert reverse("portal:consent_sign", args=[patient.public_id, "personal_data"]) in body
    for name in ("portal:profile", "portal:family", "portal:consents", "portal:family_add"):
        assert reverse(name) in body


STAFF_CASES = [
    ("registrar_a", "registrar", "Front desk"),
    ("head_nurse_a", "head_nurse", "Head nurse"),
    ("doctor_a", "doctor", "Doctor"),
    ("clinic_admin_a", "clinic_admin", "Clinic administration"),
    ("marketer", "marketer", "Marketing"),
    ("director", "director", "Director"),
    ("network_admin", "network_admin", "Network administration"),
]


@pytest.mark.parametrize(("persona", "role", "heading"), STAFF_CASES)
def test_every_role_reaches_its_own_home_page(request, as_user, persona, role, heading, clinic_b):
    user = request.getfixturevalue(persona)
    response, body = page(as_user(user))
    assert response.status_code == 200
    assert response.templates[0].name == f"portal/home/{role}.html"
    assert f"<h1>{heading}</h1>" in body
    assert "Hello," not in body  # not the patient page


@pytest.mark.parametrize("persona", ["registrar_a", "head_nurse_a", "doctor_a", "clinic_admin_a"])
def test_clinic_staff_see_only_their_own_clinics(request, as_user, persona, clinic_a, clinic_b):
    response, body = page(as_user(request.getfixturevalue(persona)))
    clinics = [row["clinic"] for row in response.context["clinics"]]
    assert clinics == [clinic_a]
    assert clinic_a.name in body
    assert clinic_b.name not in body


@pytest.mark.parametrize("persona", ["marketer", "director", "network_admin"])
def test_network_wide_roles_see_every_active_clinic(request, as_user, persona, clinic_a, clinic_b):
    response, _body = page(as_user(request.getfixturevalue(persona)))
    assert {row["clinic"] for row in response.context["clinics"]} == {clinic_a, clinic_b}


HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]*)(?:#[^"]*)?"')
BUTTON_LOOK = re.compile(
    r'<(?:span|div|ul|li|p)\b[^>]*(?:role="button"|class="[^"]*\b(?:button|chips)\b)'
)


@pytest.mark.parametrize(
    "persona", ["patient", *[persona for persona, _role, _heading in STAFF_CASES]]
)
@override_settings(DEV_OUTBOX_ENABLED=True)
def test_everything_on_a_home_page_that_looks_pressable_leads_to_a_working_page(
    request, as_user, persona, clinic_a
):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    client = as_user(user)
    response, body = page(client)
    assert response.status_code == 200
    links = {href for href in HREF.findall(body) if href.startswith("/")}
    assert links, "a home page links somewhere"
    for href in sorted(links):
        answer = client.get(href)
        assert answer.status_code in (200, 302), f"{persona}: {href} answers {answer.status_code}"
        if answer.status_code == 302:
            assert "/login/" not in answer["Location"], f"{persona}: {href} asks to sign in"
    # Nothing that is not a link or a form button is dressed as one.
    assert not BUTTON_LOOK.findall(body)


def test_the_registrar_home_has_an_autofocused_search_posting_to_patient_search(
    registrar_a, as_user
):
    _response, body = page(as_user(registrar_a))
    search = reverse("portal:patient_search")
    assert f'action="{search}"' in body
    assert 'method="post"' in body
    assert 'name="q" autofocus' in body
    assert reverse("portal:patient_create") in body


def test_home_pages_link_only_to_pages_the_role_may_open(
    as_user, doctor_a, marketer, director, network_admin
):
    _r, doctor = page(as_user(doctor_a))
    _r, marketing = page(as_user(marketer))
    _r, directing = page(as_user(director))
    _r, admin = page(as_user(network_admin))
    outbox, audit = reverse("notifications:outbox"), reverse("portal:audit_log")
    create = reverse("portal:patient_create")
    assert create not in doctor and create not in marketing and create not in directing
    assert audit in directing and audit in admin
    assert audit not in doctor and audit not in marketing
    assert outbox not in directing and outbox not in doctor
    segments, imports = reverse("crm:segments"), reverse("crm:imports")
    assert segments in marketing and reverse("crm:campaigns") in marketing
    assert segments not in doctor and segments not in directing
    assert imports in admin and imports not in marketing


@override_settings(DEV_OUTBOX_ENABLED=True)
def test_the_network_admin_home_counts_clinics_staff_and_links_outbox_and_audit(
    network_admin, registrar_a, doctor_a, clinic_b, patient, as_user
):
    response, body = page(as_user(network_admin))
    counts = response.context["counts"]
    assert counts.clinics == 2
    assert counts.staff == 3  # the admin, the registrar and the doctor
    assert counts.patients == 2 and counts.patient_logins == 1
    rows = {row["clinic"].pk: row["staff"] for row in response.context["clinics"]}
    assert rows == {registrar_a.memberships.get().clinic_id: 2, clinic_b.pk: 0}
    assert reverse("notifications:outbox") in body
    assert reverse("portal:audit_log") in body


@override_settings(DEV_OUTBOX_ENABLED=False)
def test_the_outbox_tile_is_hidden_when_the_outbox_is_off(network_admin, as_user):
    response, _body = page(as_user(network_admin))
    urls = [tool.url for tool in response.context["tools"]]
    assert reverse("notifications:outbox") not in urls
    assert reverse("portal:audit_log") in urls


def test_a_staff_member_who_is_also_a_patient_lands_on_the_staff_home_with_a_link_to_self(
    clinic_a, as_user
):
    doctor = make_staff(Role.DOCTOR, clinic_a)
    PatientWithLoginFactory(user=doctor, email=doctor.email)
    response, body = page(as_user(doctor))
    assert response.templates[0].name == "portal/home/doctor.html"
    assert reverse("portal:profile") in body


def test_users_without_role_or_profile_go_to_onboarding(as_user):
    response = as_user(UserFactory()).get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:onboarding")


# --- Language ------------------------------------------------------------------------------


def test_the_language_switch_needs_no_url_prefix_and_is_remembered(patient, as_user):
    client = as_user(patient.user)
    response = client.post(reverse("portal:set_language"), {"language": "en", "next": HOME})
    assert response.status_code == 302 and response["Location"] == HOME
    assert response.cookies["django_language"].value == "en"
    patient.user.refresh_from_db()
    assert patient.user.preferred_language == "en"
    assert '<html lang="en"' in client.get(HOME).content.decode()

    client.post(reverse("portal:set_language"), {"language": "ru", "next": HOME})
    assert '<html lang="ru"' in client.get(HOME).content.decode()


def test_an_unknown_language_changes_nothing(patient, as_user):
    client = as_user(patient.user)
    client.post(reverse("portal:set_language"), {"language": "xx", "next": HOME})
    patient.user.refresh_from_db()
    assert patient.user.preferred_language == ""


def test_anonymous_visitors_switch_language_by_cookie(client):
    response = client.post(reverse("portal:set_language"), {"language": "en", "next": "/"})
    assert response.cookies["django_language"].value == "en"
    assert '<html lang="en"' in client.get("/").content.decode()


def test_signing_in_applies_the_users_preferred_language(client):
    user = UserFactory(email="lang@example.test", preferred_language="en")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.cookies["django_language"] = "ru"
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "Medfront-test-2026"}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def _sign_in(client, user):
    return client.post(
        reverse("account_login"), {"login": user.email, "password": "Medfront-test-2026"}
    )


def _verified_user(**fields):
    user = UserFactory(email="lang@example.test", **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_language_chosen_before_sign_in_is_kept_and_saved_to_the_account(client):
    user = _verified_user(preferred_language="ru")
    client.post(reverse("portal:set_language"), {"language": "en", "next": "/"})
    response = _sign_in(client, user)
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert user.preferred_language == "en"
    assert '<html lang="en"' in client.get("/me/welcome/").content.decode()


def test_the_saved_language_applies_when_none_was_chosen_before_sign_in(client):
    user = _verified_user(preferred_language="en")
    client.cookies["django_language"] = "ru"  # left from an earlier visit, not chosen now
    response = _sign_in(client, user)
    assert response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert user.preferred_language == "en"


def test_an_account_without_a_saved_language_saves_the_one_it_signed_in_with(client):
    user = _verified_user(preferred_language="")
    client.cookies["django_language"] = "en"
    _sign_in(client, user)
    user.refresh_from_db()
    assert user.preferred_language == "en"


def test_an_unknown_language_chosen_before_sign_in_is_ignored(client):
    user = _verified_user(preferred_language="en")
    client.post(reverse("portal:set_language"), {"language": "xx", "next": "/"})
    response = _sign_in(client, user)
    assert response.cookies["django_language"].value == "en"


# --- Locale formatting ---------------------------------------------------------------------


def test_money_is_formatted_per_locale():
    with translation.override("ru"):
        assert rub(1500) == "1\u00a0500\u00a0₽"
        assert rub("1500.50") == "1\u00a0500,50\u00a0₽"
    with translation.override("en"):
        assert rub(1500) == "₽1,500"
        assert rub("1500.50") == "₽1,500.50"
    assert rub(None) == "" and rub("abc") == ""


def test_age_counts_full_years():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    # Twelve years back keeps a 29 February a valid date.
    born = tomorrow.replace(year=tomorrow.year - 12)
    assert age(born) == 11
    assert age(born - datetime.timedelta(days=1)) == 12
    assert age(None) == ""


def test_language_codes_read_as_their_speakers_write_them():
    assert language_names(["ru", "en"]) == "Русский, English"
    assert language_names(["xx"]) == "XX"
    assert language_names(None) == ""


def test_the_clinic_cards_count_staff_accounts_and_say_so(
    network_admin, registrar_a, doctor_a, clinic_b, as_user
):
    _response, body = page(as_user(network_admin), language="ru")
    # Doctors on the schedule without a login are not people with an account: the badge says
    # what it counts, so «0» for a clinic of doctors reads right.
    assert "2 учётные записи</span>" in body and "0 учётных записей</span>" in body
    assert "без входа не учитываются" in body and " 0 сотрудников" not in body
