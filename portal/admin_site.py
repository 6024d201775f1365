from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class MedfrontAdminSite(admin.AdminSite):
    """The admin for reference data; open to Django staff and to network administrators.

    Nobody signs in here: the admin's login page sends to the site's sign-in (allauth), so the
    admin gets the same lockout and second factor as every other way in, and an admin session
    must have passed MFA like any staff page (`portal.auth.policy`).
    """

    site_header = _("Medfront administration")
    site_title = _("Medfront administration")

    def has_permission(self, request):
        # Imported here: this module is loaded with the app configs, before models are ready.
        from portal.auth.policy import MfaState, staff_mfa_state
        from portal.permissions import has_capability

        user = request.user
        return (
            user.is_active
            and (user.is_staff or has_capability(user, "network.manage"))
            and staff_mfa_state(request, user) is MfaState.MET
        )

    def login(self, request, extra_context=None):
        """The documented override point of the admin's login view: the site's sign-in."""
        if request.user.is_authenticated:
            # Signed in, yet not allowed here (another role): sending them to sign in again
            # would only bring them back.
            return HttpResponseRedirect(reverse("portal:home"))
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index")
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return HttpResponseRedirect(f"{reverse('account_login')}?{query}")


class MedfrontAdminConfig(AdminConfig):
    default_site = "portal.admin_site.MedfrontAdminSite"
