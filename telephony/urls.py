from django.urls import path

from telephony.views import desk, webhooks

app_name = "telephony"

urlpatterns = [
    # Provider webhooks (CSRF-exempt, signed): the account's public id names the secret.
    path("generic/<uuid:account>/events/", webhooks.generic_events, name="generic_events"),
    path("mango/<uuid:account>/events/<slug:kind>", webhooks.mango_events, name="mango_events"),
    path("zadarma/<uuid:account>/", webhooks.zadarma_events, name="zadarma_events"),
    # Registrars
    path("desk/caller/", desk.caller_panel_partial, name="caller_panel"),
    path("calls/", desk.calls, name="calls"),
    path("callbacks/<uuid:public_id>/done/", desk.callback_done, name="callback_done"),
    path("calls/<uuid:public_id>/new-patient/", desk.new_caller, name="new_caller"),
]
