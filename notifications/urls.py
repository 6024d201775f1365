from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/mine/", views.browser_outbox, name="browser_outbox"),
    # Provider delivery reports (README, "Messaging providers").
    path("sms/smsru/<str:token>/status/", views.smsru_status, name="smsru_status"),
    path("sms/twilio/status/", views.twilio_status, name="twilio_status"),
    # Replies: inbound SMS (SMS.ru's come to its callback address above) and the Telegram bot.
    path("sms/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("telegram/webhook/", views.telegram_webhook, name="telegram_webhook"),
]
