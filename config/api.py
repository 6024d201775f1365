"""Everything under `/api/`: version 1, the OpenAPI schema and its docs (served without a CDN),
and a catch-all so unknown addresses answer problem+json 404 rather than an HTML page."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from portal.api.access import public
from portal.api.exceptions import api_not_found


# The schema and its readers are public on purpose: the API is documented in the open.
@public
class SchemaView(SpectacularAPIView):
    pass


# Swagger UI with its start-up script served as a file of its own (`?script`), not inline.
@public
class SwaggerView(SpectacularSwaggerSplitView):
    pass


@public
class RedocView(SpectacularRedocView):
    pass


# Both bundles style their widgets through inline styles (Redoc's styled-components writes
# <style> elements), and Redoc runs its search in a worker made from a blob. Scripts stay
# 'self' only: their pages load the sidecar's files and ours.
docs_policy = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

v1 = [
    path("", include("portal.api.urls")),
    path("", include("scheduling.api.urls")),
    path("", include("crm.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", docs_policy(SwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", docs_policy(RedocView.as_view(url_name="api-schema")), name="api-redoc"),
    re_path(r"^.*$", api_not_found),
]
