from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("portal.urls")),
    path("", include("scheduling.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("notifications/", include("notifications.urls")),
    path("telephony/", include("telephony.urls")),
    path("crm/", include("crm.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/", include("config.api")),
    path("fhir/R4/", include("scheduling.fhir.urls")),
    path("admin/", admin.site.urls),
]

# Problem+json under /api/, OperationOutcome under /fhir/, the site's pages elsewhere.
handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
