"""The product's URLs plus the two bench-only baselines; `config.urls` itself stays untouched."""

from django.urls import include, path

from bench.benchapp import views

urlpatterns = [
    path("bench/trivial", views.trivial, name="bench-trivial"),
    path("bench/insert", views.InsertView.as_view(), name="bench-insert"),
    path("", include("config.urls")),
]
