import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from portal.choices import AuditAction
from portal.models import AuditEvent, Patient
from tests.factories import FamilyLinkFactory, PatientFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("portal:patient_search")
CREATE = reverse("portal:patient_create")
AUDIT = reverse("portal:audit_log")

ALLOWED_READERS = ["registrar_a", "head_nurse_a", "doctor_a", "clinic_admin_a", "network_admin"]
ALLOWED_WRITERS = ["registrar_a", "clinic_admin_a", "network_admin"]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def petrov(db):
    return PatientFactory(last_name="Петров", first_name="Пётр", phone="+79145551234")


def card_url(patient):
    return reverse("portal:patient_card", args=[patient.public_id])


def edit_url(patient):
    return reverse("portal:patient_edit", args=[patient.public_id])


# --- Permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALLOWED_READERS)
def test_staff_who_may_read_open_search_and_card(request, as_user, persona, petrov):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(SEARCH).status_code == 200
    assert client.get(card_url(petrov)).status_code == 200


@pytest.mark.parametrize("persona", ALLOWED_WRITERS)
def test_staff_who_may_write_open_new_and_edit(request, as_user, persona, petrov):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(CREATE).status_code == 200
    assert client.get(edit_url(petrov)).status_code == 200


@pytest.mark.parametrize("persona", ["head_nurse_a", "doctor_a"])
def test_readers_may_not_create_or_edit(request, as_user, persona, petrov):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(CREATE).status_code == 403
    assert client.get(edit_url(petrov)).status_code == 403
    assert client.post(edit_url(petrov), {"last_name": "X", "first_name": "Y"}).status_code == 403
    assert Patient.objects.get(pk=petrov.pk).last_name == "Петров"


@pytest.mark.parametrize("persona", ["marketer", "director"])
def test_roles_without_patient_access_get_403(request, as_user, persona, petrov):
    client = as_user(request.getfixturevalue(persona))
    for url in (SEARCH, CREATE, card_url(petrov), edit_url(petrov)):
        assert client.get(url).status_code == 403, url
    assert client.post(SEARCH, {"q": petrov.phone}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_a_patient_gets_403_on_staff_pages_and_404_for_someone_elses_card(
    as_user, patient, other_patient
):
    client = as_user(patient.user)
    assert client.get(SEARCH).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.get(AUDIT).status_code == 403
    assert client.get(card_url(patient)).status_code == 403
    assert client.get(card_url(other_patient)).status_code == 404
    assert client.get(edit_url(other_patient)).status_code == 404
    assert not AuditEvent.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, petrov):
    for url in (SEARCH, CREATE, card_url(petrov), edit_url(petrov), AUDIT):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))


def test_an_unknown_card_is_404_for_staff(as_user, registrar_a):
    url = reverse("portal:patient_card", args=["00000000-0000-0000-0000-000000000000"])
    assert as_user(registrar_a).get(url).status_code == 404


@pytest.mark.parametrize("persona", ["network_admin", "director"])
def test_the_audit_log_is_open_to_audit_readers(request, as_user, persona):
    assert as_user(request.getfixturevalue(persona)).get(AUDIT).status_code == 200


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "marketer"])
def test_the_audit_log_is_closed_to_others(request, as_user, persona):
    assert as_user(request.getfixturevalue(persona)).get(AUDIT).status_code == 403


# --- Search ------------------------------------------------------------------------------------


def test_the_search_page_is_keyboard_first(as_user, registrar_a):
    html = as_user(registrar_a).get(SEARCH).content.decode()
    assert 'id="patient-q"' in html and "autofocus" in html
    assert 'method="post"' in html  # searched values never travel in the URL
    assert 'type="submit"' in html
    assert not AuditEvent.objects.exists()  # opening the page searches nothing


def test_a_search_typed_into_the_address_is_not_run(as_user, registrar_a, petrov):
    response = as_user(registrar_a).get(SEARCH, {"q": petrov.phone})
    assert response.status_code == 200
    assert card_url(petrov) not in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "query",
    ["8 914 555-12-34", "1234 Петров", "Петров 1234"],
)
def test_one_box_understands_phones_and_quick_queries(as_user, registrar_a, petrov, query):
    response = as_user(registrar_a).post(SEARCH, {"q": query})
    assert response.status_code == 200
    assert card_url(petrov) in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.action, event.patient_ids) == (AuditAction.SEARCH, [str(petrov.public_id)])


def test_one_box_understands_an_email_and_a_name_with_birth_date(as_user, registrar_a, petrov):
    client = as_user(registrar_a)
    assert card_url(petrov) in client.post(SEARCH, {"q": petrov.email.upper()}).content.decode()
    born = petrov.birth_date.strftime("%d.%m.%Y")
    response = client.post(SEARCH, {"q": f"Петров Пётр {born}"})
    assert card_url(petrov) in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH).count() == 2


def test_one_box_takes_an_iso_birth_date_too(as_user, registrar_a, petrov):
    response = as_user(registrar_a).post(SEARCH, {"q": f"{petrov.birth_date} Петров Пётр"})
    assert card_url(petrov) in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("12", "valid phone"),
        ("Петров Пётр 1980-02-31", "DD.MM.YYYY"),
        ("Петров", "date of birth"),
        ("Петров Пётр 31.02.1980", "DD.MM.YYYY"),
        ("Петров 01.01.1980", "surname and the first name"),
        ("x@", "valid email"),
        ("9" * 300, "at most 200"),
    ],
)
def test_a_malformed_query_gets_a_clear_message_and_no_audit_row(
    as_user, registrar_a, query, message
):
    response = as_user(registrar_a).post(SEARCH, {"q": query})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_htmx_gets_only_the_results_partial(as_user, registrar_a, petrov):
    response = as_user(registrar_a).post(SEARCH, {"q": petrov.phone}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="patient-results"')
    assert "<html" not in html
    assert card_url(petrov) in html


def test_search_results_have_a_fixed_query_budget(
    as_user, registrar_a, clinic_a, django_assert_num_queries
):
    PatientFactory(last_name="Смирнов", phone="+79145554321", home_clinic=clinic_a)
    client = as_user(registrar_a)
    client.get(SEARCH)  # warm the session
    # The same number of queries for one result as for five: no query per row. The count
    # includes per-request middleware, so it is measured rather than hard-coded.
    reset_queries()  # each request clears the log; start from zero so the count is right
    with CaptureQueriesContext(connection) as one_result:
        client.post(SEARCH, {"q": "4321 Смирнов"}, HTTP_HX_REQUEST="true")
    budget = len(one_result)  # read now: the next request clears the connection's query log
    searches = [
        q["sql"] for q in one_result.captured_queries if 'last4_surname_bidx" = ' in q["sql"]
    ]
    assert len(searches) == 1
    for _ in range(4):
        PatientFactory(last_name="Смирнов", phone="+79145554321", home_clinic=clinic_a)
    with django_assert_num_queries(budget):
        response = client.post(SEARCH, {"q": "4321 Смирнов"}, HTTP_HX_REQUEST="true")
    assert response.content.decode().count("/staff/patients/") == 5


# --- Card --------------------------------------------------------------------------------------


def test_the_card_shows_the_profile_formatted_and_is_audited(
    as_user, registrar_a, patient, dependant
):
    html = as_user(registrar_a).get(card_url(patient)).content.decode()
    assert "Иванова Анна" in html
    assert "+7 " in html  # the phone is formatted, not raw E.164
    assert card_url(dependant) in html  # family links
    assert "Consents" in html
    assert "Recent access" not in html  # registrars do not see the card's audit
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id) == (AuditAction.VIEW, str(patient.public_id))
    # The card lists the dependant: the read is in the dependant's trail too.
    assert sorted(event.patient_ids) == sorted([str(patient.public_id), str(dependant.public_id)])


def test_a_dependants_card_audits_the_guardians_it_lists(as_user, registrar_a, patient, dependant):
    second = FamilyLinkFactory(dependant=dependant).guardian
    html = as_user(registrar_a).get(card_url(dependant)).content.decode()
    assert card_url(patient) in html and card_url(second) in html
    event = AuditEvent.objects.get()
    assert event.object_id == str(dependant.public_id)
    assert sorted(event.patient_ids) == sorted(
        str(p.public_id) for p in (dependant, patient, second)
    )


def test_network_admins_see_the_cards_recent_audit(as_user, network_admin, registrar_a, patient):
    as_user(registrar_a).get(card_url(patient))
    html = as_user(network_admin).get(card_url(patient)).content.decode()
    assert "Recent access to this card" in html
    assert "registrar-a@example.test" in html


# --- Create ------------------------------------------------------------------------------------

NEW = {
    "last_name": "Соколова",
    "first_name": "Вера",
    "birth_date": "1975-11-30",
    "phone": "+7 (914) 777-66-55",
    "email": "vera@example.test",
}


def test_creating_a_patient_redirects_to_the_card_and_is_audited(as_user, registrar_a, clinic_a):
    response = as_user(registrar_a).post(CREATE, {**NEW, "home_clinic": clinic_a.pk})
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == card_url(patient)
    assert (patient.phone, patient.home_clinic, patient.created_by) == (
        "+79147776655",
        clinic_a,
        registrar_a,
    )
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.CREATE
    assert "phone" in event.changed_fields


def test_a_duplicate_is_shown_and_needs_a_confirmation(as_user, registrar_a, petrov):
    client = as_user(registrar_a)
    response = client.post(CREATE, {**NEW, "phone": "8 914 555 12 34"})
    assert response.status_code == 200
    html = response.content.decode()
    assert card_url(petrov) in html and "confirm_duplicates" in html
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.get().action == AuditAction.SEARCH  # the duplicates shown

    response = client.post(CREATE, {**NEW, "phone": "8 914 555 12 34", "confirm_duplicates": "on"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "Enter a valid phone number."),
        ("email", "vera@", "Enter a valid email address."),
        ("birth_date", "2999-01-01", "The date of birth cannot be in the future."),
        ("birth_date", "30.02.1975", "Enter a valid date."),
        ("last_name", "С" * 101, "at most 100 characters"),
        ("snils", "112-233-445 96", "SNILS check number does not match."),
        ("oms_policy", "12", "16 digits"),
        ("notes", "n" * 2001, "at most 2000 characters"),
        ("sex", "robot", "Select a valid choice."),
        ("home_clinic", "999999", "Select a valid choice."),
        ("last_name", "", "This field is required."),
    ],
)
def test_bad_input_on_create_is_refused_with_a_message_and_nothing_saved(
    as_user, registrar_a, field, value, message
):
    response = as_user(registrar_a).post(CREATE, {**NEW, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_registrar_cannot_pick_a_clinic_they_do_not_work_in(as_user, registrar_a, clinic_b):
    response = as_user(registrar_a).post(CREATE, {**NEW, "home_clinic": clinic_b.pk})
    assert response.status_code == 200
    assert not Patient.objects.exists()


# --- Edit --------------------------------------------------------------------------------------


def test_editing_saves_the_changes_and_audits_their_names(as_user, registrar_a, petrov):
    client = as_user(registrar_a)
    form = client.get(edit_url(petrov)).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None,)}
    data.update(phone="+7 914 000-11-22", notes="Приходит с опекуном")
    data["birth_date"] = petrov.birth_date.isoformat()
    response = client.post(edit_url(petrov), data)
    assert response.status_code == 302
    fresh = Patient.objects.get(pk=petrov.pk)
    assert (fresh.phone, fresh.notes) == ("+79140001122", "Приходит с опекуном")
    update = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert update.changed_fields == ["notes", "phone"]


def test_bad_input_on_edit_changes_nothing_and_writes_no_audit_row(as_user, registrar_a, petrov):
    client = as_user(registrar_a)
    response = client.post(
        edit_url(petrov), {"last_name": "Петров", "first_name": "Пётр", "email": "bad@"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert Patient.objects.get(pk=petrov.pk).email == petrov.email
    assert not AuditEvent.objects.exists()


# --- Audit log ---------------------------------------------------------------------------------


def test_the_audit_log_filters_and_paginates(as_user, network_admin, registrar_a, petrov):
    reader = as_user(registrar_a)
    for _ in range(3):
        reader.get(card_url(petrov))
    client = as_user(network_admin)
    response = client.get(AUDIT, {"patient": str(petrov.public_id), "action": "view"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 3
    assert "registrar-a@example.test" in response.content.decode()
    response = client.get(AUDIT, {"actor": "nobody@example.test"})
    assert response.context["rows"] == []


def test_a_bad_audit_filter_shows_an_error_and_no_rows(as_user, network_admin, registrar_a, petrov):
    as_user(registrar_a).get(card_url(petrov))
    response = as_user(network_admin).get(AUDIT, {"patient": "not-a-uuid", "page": "zzz"})
    assert response.status_code == 200
    assert "Enter a valid UUID." in response.content.decode()
    assert response.context["rows"] == []


def test_the_audit_log_page_has_a_fixed_query_budget(
    as_user, network_admin, registrar_a, doctor_a, petrov, django_assert_num_queries
):
    as_user(registrar_a).get(card_url(petrov))
    client = as_user(network_admin)
    client.get(AUDIT)
    reset_queries()
    with CaptureQueriesContext(connection) as one_row:
        client.get(AUDIT)
    budget = len(one_row)  # read now: the next request clears the connection's query log
    for user in (registrar_a, doctor_a):
        for _ in range(4):
            as_user(user).get(card_url(petrov))
    # Count, page, actors, clinics, patients and the audit row of the names shown: the same
    # whether the page shows one row or eleven (nine card views, two listings by this page).
    with django_assert_num_queries(budget):
        response = client.get(AUDIT)
    assert len(response.context["rows"]) == 11


def test_the_audit_log_reads_in_words_with_names_for_card_readers(
    as_user, network_admin, director, registrar_a, petrov, clinic_a
):
    as_user(registrar_a).get(card_url(petrov))
    admin_page = as_user(network_admin).get(AUDIT, {"clinic": clinic_a.pk}).content.decode()
    assert petrov.full_name in admin_page
    assert "portal.patient" not in admin_page and "phone_bidx" not in admin_page
    director_page = as_user(director).get(AUDIT).content.decode()
    assert petrov.full_name not in director_page
    assert str(petrov.public_id)[:8] in director_page


def test_a_period_ending_before_it_starts_is_refused(as_user, network_admin, registrar_a, petrov):
    as_user(registrar_a).get(card_url(petrov))
    response = as_user(network_admin).get(
        AUDIT, {"date_from": "2026-12-10", "date_to": "2026-12-01"}
    )
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["form"].errors["date_to"]
