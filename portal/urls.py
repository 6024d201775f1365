from django.urls import path

from portal.views import pages

app_name = "portal"

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("home/", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
]
