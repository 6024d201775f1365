from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/mine/", views.browser_outbox, name="browser_outbox"),
]
