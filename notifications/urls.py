from django.urls import path

from notifications import staff_views, views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/mine/", views.browser_outbox, name="browser_outbox"),
    # Staff pages: the message log and the texts per event (README, "Message log and texts").
    path("messages/", staff_views.message_log_page, name="message_log"),
    path("texts/", staff_views.message_text_list, name="message_texts"),
    path(
        "texts/<str:scope>/<str:event>/<str:channel>/<str:language>/",
        staff_views.message_text_edit,
        name="message_text_edit",
    ),
    path(
        "texts/<str:scope>/<str:event>/<str:channel>/<str:language>/preview/",
        staff_views.message_text_preview,
        name="message_text_preview",
    ),
    # Provider delivery reports (README, "Messaging providers").
    path("sms/smsru/<str:token>/status/", views.smsru_status, name="smsru_status"),
    path("sms/twilio/status/", views.twilio_status, name="twilio_status"),
    # Replies: inbound SMS (SMS.ru's come to its callback address above) and the Telegram bot.
    path("sms/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("telegram/webhook/", views.telegram_webhook, name="telegram_webhook"),
]
