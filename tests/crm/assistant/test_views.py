"""The message API, the chat widget and the operator inbox: who may use them, and the thread
an operator answers in."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.choices import ConversationStatus, TurnAuthor
from crm.models import Conversation
from portal.models import AuditEvent
from scheduling.models import Appointment
from tests.factories import ClinicFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/assistant/messages/"


def post(client, **body):
    return client.post(API, data=body, content_type="application/json")


# --- The API -------------------------------------------------------------------------------------


def test_an_anonymous_visitor_talks_to_the_api(clock, therapist):
    client = Client()
    first = post(client, text="Запишите меня к терапевту завтра утром")
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"conversation", "reply", "intent", "entities", "offers", "actions"}
    assert body["intent"] == "book"
    assert body["offers"] and set(body["offers"][0]) == {
        "id",
        "start",
        "end",
        "doctor",
        "clinic",
        "room",
        "service",
        "price",
    }
    again = post(client, conversation=body["conversation"], text="первый").json()
    assert again["conversation"] == body["conversation"]
    assert "войдите" in again["reply"]


def test_another_browser_cannot_continue_a_conversation(clock, therapist):
    body = post(Client(), text="Запишите меня к терапевту").json()
    stranger = post(Client(), conversation=body["conversation"], text="да")
    assert stranger.status_code == 404
    assert stranger["Content-Type"].startswith("application/problem+json")


def test_another_patient_cannot_continue_a_patients_conversation(
    clock, therapist, patient, other_patient, as_user
):
    body = post(as_user(patient.user), text="Хочу записаться").json()
    response = post(as_user(other_patient.user), conversation=body["conversation"], text="да")
    assert response.status_code == 404


def test_a_signed_in_patient_books_through_the_api(clock, therapist, patient, as_user):
    client = as_user(patient.user)
    body = post(client, text="Запишите меня к терапевту завтра утром").json()
    chosen = body["offers"][0]
    post(client, conversation=body["conversation"], text="первый")
    done = post(client, conversation=body["conversation"], text="да").json()
    assert done["actions"] == ["booked"]
    visit = Appointment.objects.get()
    assert visit.patient == patient and visit.doctor.public_id.hex == chosen["doctor"].replace(
        "-", ""
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "x" * 1001},
        {"text": "hi", "language": "de"},
        {"text": "hi", "conversation": "not-a-uuid"},
    ],
)
def test_bad_input_is_a_400_problem_and_changes_nothing(body):
    response = post(Client(), **body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Conversation.objects.exists()


def test_anonymous_messages_are_throttled_per_ip(settings, clock):
    from django.core.cache import cache

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "assistant_anon": "2/minute"},
    }
    client = Client(REMOTE_ADDR="198.51.100.7")
    try:
        assert post(client, text="привет").status_code == 200
        assert post(client, text="привет").status_code == 200
        refused = post(client, text="привет")
        assert refused.status_code == 429
        assert refused["Content-Type"].startswith("application/problem+json")
    finally:
        cache.delete("throttle_assistant_anon_198.51.100.7")


def test_the_schema_documents_the_endpoint():
    schema = Client().get("/api/schema/").content.decode()
    assert "/api/v1/assistant/messages/" in schema
    assert "assistant_messages_create" in schema


# --- The widget ----------------------------------------------------------------------------------


def test_the_widget_answers_and_keeps_the_thread_in_the_session(clock, therapist):
    client = Client()
    response = client.post("/crm/assistant/", {"text": "Запишите меня к терапевту завтра"})
    assert response.status_code == 200
    assert "Свободное время" in response.content.decode()
    polled = client.get("/crm/assistant/").content.decode()
    assert "Запишите меня к терапевту завтра" in polled
    assert Conversation.objects.count() == 1
    assert "Запишите" not in Client().get("/crm/assistant/").content.decode()


def test_the_widget_refuses_an_empty_message(db):
    response = Client().post("/crm/assistant/", {"text": ""})
    assert response.status_code == 400
    assert not Conversation.objects.exists()


def test_the_widget_is_on_public_and_patient_pages_but_not_staff_ones(
    patient, registrar_a, as_user
):
    assert 'class="assistant-widget"' in Client().get("/").content.decode()
    assert 'class="assistant-widget"' in as_user(patient.user).get("/me/").content.decode()
    assert (
        'class="assistant-widget"' not in as_user(registrar_a).get("/crm/inbox/").content.decode()
    )


# --- The operator inbox --------------------------------------------------------------------------


@pytest.fixture
def handed_over(clock, patient, chat_as):
    chat = chat_as(patient.user)
    chat.say("Запишите меня к терапевту для сына завтра утром")
    chat.say("Позовите оператора")
    return chat.conversation


@pytest.mark.parametrize("persona", ["registrar_a", "marketer", "network_admin"])
def test_operators_see_the_handed_over_conversation_with_its_transcript(
    persona, handed_over, request, as_user
):
    client = as_user(request.getfixturevalue(persona))
    listing = client.get("/crm/inbox/")
    assert listing.status_code == 200
    assert str(handed_over.public_id) in listing.content.decode()
    page = client.get(f"/crm/inbox/{handed_over.public_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Запишите меня к терапевту для сына завтра утром" in text
    assert "child" in text  # what was gathered: nothing is asked again
    assert AuditEvent.objects.filter(
        object_type="crm.conversation", object_id=str(handed_over.public_id), action="view"
    ).exists()


@pytest.mark.parametrize("persona", ["doctor_a", "head_nurse_a", "clinic_admin_a", "director"])
def test_other_roles_are_refused(persona, handed_over, request, as_user):
    client = as_user(request.getfixturevalue(persona))
    assert client.get("/crm/inbox/").status_code == 403
    assert client.get(f"/crm/inbox/{handed_over.public_id}/").status_code == 403


def test_a_patient_is_refused_the_inbox(handed_over, patient, as_user):
    client = as_user(patient.user)
    assert client.get("/crm/inbox/").status_code == 403
    assert client.get(f"/crm/inbox/{handed_over.public_id}/").status_code == 403


def test_a_registrar_of_another_clinic_does_not_see_a_clinics_conversation(
    handed_over, registrar_b, as_user
):
    handed_over.clinic = ClinicFactory()
    handed_over.save(update_fields=["clinic"])
    client = as_user(registrar_b)
    assert str(handed_over.public_id) not in client.get("/crm/inbox/").content.decode()
    assert client.get(f"/crm/inbox/{handed_over.public_id}/").status_code == 404
    assert client.post(f"/crm/inbox/{handed_over.public_id}/close/").status_code == 404


def test_an_operator_answers_in_the_thread_and_the_widget_sees_it(
    clock, registrar_a, patient, as_user
):
    widget_client = as_user(patient.user)
    widget_client.post("/crm/assistant/", {"text": "Позовите оператора"})
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.HANDED_OVER
    operator = as_user(registrar_a)
    answer = operator.post(f"/crm/inbox/{conversation.public_id}/", {"text": "Добрый день!"})
    assert answer.status_code == 302
    assert conversation.turns.filter(author=TurnAuthor.OPERATOR, operator=registrar_a).exists()
    polled = widget_client.get("/crm/assistant/").content.decode()
    assert "Добрый день!" in polled
    assert operator.post(f"/crm/inbox/{conversation.public_id}/", {"text": ""}).status_code == 400
    closed = operator.post(f"/crm/inbox/{conversation.public_id}/close/")
    assert closed.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    assert conversation.operator_answered_at is not None
