"""The network admin's integration tokens: issue one (shown once), see them, revoke one."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from portal.forms.integrations import IntegrationTokenForm
from portal.models import IntegrationToken
from portal.services.integration_tokens import integration_token_issue, integration_token_revoke


def require_network_admin(user) -> None:
    if permissions.clinic_ids_with(user, "network.manage") is not None:
        raise PermissionDenied


@login_required
def integration_tokens(request: HttpRequest) -> HttpResponse:
    require_network_admin(request.user)
    form = IntegrationTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        issued = integration_token_issue(
            name=data["name"],
            scopes=data["scopes"],
            clinic=data["clinic"],
            expires_at=form.expires_at(),
            actor=request.user,
        )
        form = IntegrationTokenForm()
    context = {
        "form": form,
        "issued": issued[0] if issued else None,
        # The only time the token exists outside the caller's hands: never stored, never cached.
        "issued_token": issued[1] if issued else "",
        "rows": IntegrationToken.objects.select_related("clinic"),
        "now": timezone.now(),
    }
    response = render(request, "portal/network/integration_tokens.html", context)
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def integration_token_revoke_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_network_admin(request.user)
    token = IntegrationToken.objects.filter(public_id=public_id).first()
    if token is None:
        raise Http404
    if integration_token_revoke(token=token, actor=request.user):
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("portal:integration_tokens")
