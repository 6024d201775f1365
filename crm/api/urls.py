from django.urls import path

from crm.api import assistant

urlpatterns = [
    path(
        "assistant/messages/",
        assistant.AssistantMessageView.as_view(),
        name="api-assistant-messages",
    ),
]
