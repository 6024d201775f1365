"""Everything under `/api/`: version 1, the OpenAPI schema and its docs (served without a CDN),
and a catch-all so unknown addresses answer problem+json 404 rather than an HTML page."""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from portal.api.exceptions import api_not_found

v1 = [
    path("", include("portal.api.urls")),
    path("", include("scheduling.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^.*$", api_not_found),
]
