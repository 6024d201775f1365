from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class MedfrontAdminSite(admin.AdminSite):
    """The admin for reference data; open to Django staff and to network administrators."""

    site_header = _("Medfront administration")
    site_title = _("Medfront administration")

    def has_permission(self, request):
        # Imported here: this module is loaded with the app configs, before models are ready.
        from portal.permissions import has_capability

        user = request.user
        return user.is_active and (user.is_staff or has_capability(user, "network.manage"))


class MedfrontAdminConfig(AdminConfig):
    default_site = "portal.admin_site.MedfrontAdminSite"
