"""Staff pages of patient messages: the message log and the texts per event."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.choices import Channel, LogState
from notifications.forms import MessageLogFilterForm, MessageTextForm
from notifications.message_templates import message_template_reset, message_template_save
from notifications.models import MessageTemplate
from notifications.permissions import NETWORK_SCOPE, get_template_scope_for_user
from notifications.selectors import mask_address, message_log, message_text_overview
from notifications.templating import (
    EVENTS,
    PLACEHOLDERS,
    fill,
    sample_values,
    shipped_text,
    sms_length,
)
from portal.permissions import clinic_ids_with, clinics_with, require_capability

LOG_PAGE_SIZE = 50
STATE_BADGES = {
    LogState.QUEUED: "badge-muted",
    LogState.SENT: "badge-info",
    LogState.DELIVERED: "badge-ok",
    LogState.FAILED: "badge-danger",
    LogState.EXPIRED: "badge-warn",
    LogState.CANCELLED: "badge-muted",
}
LANGUAGE_CODES = {code for code, _label in settings.LANGUAGES}


@login_required
def message_log_page(request):
    """Messages of the reader's clinics with their state, attempts and last error; never the
    text, and the address masked."""
    require_capability(request.user, "messages.view")
    form = MessageLogFilterForm(
        {k: v for k, v in request.GET.items() if k != "page"} or None,
        clinics=clinics_with(request.user, "messages.view"),
    )
    valid = not form.is_bound or form.is_valid()
    filters = form.cleaned_data if form.is_bound and valid else {}
    log = message_log(user=request.user, **filters)
    if not valid:
        # A filter that cannot be applied shows its error and nothing, never everything.
        log = log.none()
    page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "message": message,
            "address": mask_address(message.to_address),
            "event_label": EVENTS[message.event].label if message.event in EVENTS else "",
            "state_label": LogState(message.state).label,
            "badge": STATE_BADGES[message.state],
        }
        for message in page.object_list
    ]
    return render(
        request,
        "notifications/message_log.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


def _scopes(user) -> list[tuple[str, str]]:
    """(scope, label) the user may edit: the network's defaults for network-wide staff, then
    each clinic."""
    scopes = []
    if clinic_ids_with(user, "messages.manage") is None:
        scopes.append((NETWORK_SCOPE, _("Network default")))
    scopes.extend((str(clinic.pk), clinic.name) for clinic in clinics_with(user, "messages.manage"))
    return scopes


@login_required
def message_text_list(request):
    """Events × channels × languages of one scope, with whose text applies to each."""
    require_capability(request.user, "messages.manage")
    scopes = _scopes(request.user)
    if not scopes:
        raise Http404
    scope = request.GET.get("scope") or scopes[0][0]
    clinic = get_template_scope_for_user(request.user, scope)
    overview = message_text_overview(clinic=clinic)
    return render(
        request,
        "notifications/message_texts.html",
        {
            "scopes": scopes,
            "scope": scope,
            "clinic": clinic,
            "overview": overview,
            "columns": [
                {"channel_label": Channel(cell.channel).label, "language": cell.language}
                for cell in (overview[0].cells if overview else [])
            ],
        },
    )


def _target(request, scope: str, event: str, channel: str, language: str):
    """The scope's clinic and the event spec of one text; 404 for an unknown combination."""
    clinic = get_template_scope_for_user(request.user, scope)
    spec = EVENTS.get(event)
    if spec is None or channel not in spec.channels or language not in LANGUAGE_CODES:
        raise Http404
    return clinic, spec


def _preview(form: MessageTextForm, *, channel: str, language: str) -> dict:
    """The text filled with made-up values, its SMS length, and the form's errors."""
    values = sample_values(event=form.event, language=language)
    data = form.cleaned_data if form.is_valid() else {}
    body = fill(data.get("body", ""), values) if data else ""
    return {
        "preview_subject": fill(data.get("subject", ""), values) if data else "",
        "preview_body": body,
        "sms": sms_length(body) if channel == Channel.SMS and data else None,
    }


@login_required
def message_text_edit(request, scope: str, event: str, channel: str, language: str):
    """Edit one text: save it, see it filled with sample data (without JavaScript too), or
    restore the network's (or the shipped) text."""
    clinic, spec = _target(request, scope, event, channel, language)
    own = MessageTemplate.objects.filter(
        clinic=clinic, event=event, channel=channel, language=language
    ).first()
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "reset":
        message_template_reset(
            clinic=clinic, event=event, channel=channel, language=language, actor=request.user
        )
        messages.success(request, _("The default text applies again."))
        return redirect(f"{reverse('notifications:message_texts')}?scope={scope}")
    if request.method == "POST":
        form = MessageTextForm(request.POST, event=spec, channel=channel)
        if action == "save" and form.is_valid():
            message_template_save(
                clinic=clinic,
                event=event,
                channel=channel,
                language=language,
                subject=form.cleaned_data.get("subject", ""),
                body=form.cleaned_data["body"],
                actor=request.user,
            )
            messages.success(request, _("The text is saved."))
            return redirect(f"{reverse('notifications:message_texts')}?scope={scope}")
    else:
        if own is not None:
            subject, body = own.subject, own.body
        else:
            subject, body = shipped_text(event=spec, channel=channel, language=language)
        form = MessageTextForm({"subject": subject, "body": body}, event=spec, channel=channel)
    return render(
        request,
        "notifications/message_text_edit.html",
        {
            "form": form,
            "scope": scope,
            "clinic": clinic,
            "event": spec,
            "channel": channel,
            "channel_label": Channel(channel).label,
            "language": language,
            "own": own,
            "placeholders": _placeholder_rows(spec),
            **_preview(form, channel=channel, language=language),
        },
    )


@login_required
@require_POST
def message_text_preview(request, scope: str, event: str, channel: str, language: str):
    """The live preview of the edit page (htmx): nothing is saved."""
    _clinic, spec = _target(request, scope, event, channel, language)
    form = MessageTextForm(request.POST, event=spec, channel=channel)
    return render(
        request,
        "notifications/htmx/message_preview.html",
        {"form": form, "channel": channel, **_preview(form, channel=channel, language=language)},
    )


def _placeholder_rows(spec) -> list[tuple[str, str]]:
    return [(f"{{{name}}}", str(PLACEHOLDERS[name][0])) for name in spec.placeholders]
