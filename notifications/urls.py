from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/mine/", views.browser_outbox, name="browser_outbox"),
    # Provider delivery reports (README, "Messaging providers").
    path("sms/smsru/<str:token>/status/", views.smsru_status, name="smsru_status"),
    path("sms/twilio/status/", views.twilio_status, name="twilio_status"),
]
