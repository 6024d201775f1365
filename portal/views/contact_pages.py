"""The patient's message settings: which channel carries which kind of message, and the
Telegram chat link (a one-time code shown here, typed or opened in the bot).

The patient's own, and a dependant's from the family page (scoped like every family page:
anyone else's id answers 404). Staff without a patient profile get 403 (`patient_required`).
Forms post and redirect; the link code is shown once, in the answer to the POST that made it.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.choices import ContactChannel, MessageKind
from portal.models import Patient
from portal.selectors.contact import contact_overview, messenger_chat_of
from portal.services.contact import (
    contact_preferences_set,
    messenger_link_code_issue,
    messenger_unlink,
)
from portal.views.account_pages import managed_dependant, patient_required


def _field(channel: str, kind: str) -> str:
    return f"{channel}_{kind}"


class ContactPreferencesForm(forms.Form):
    """One switch per channel and kind; marketing switches are left out without the
    advertising consent (the page says why), so a crafted post cannot turn them on."""

    def __init__(self, *args, marketing_allowed: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for channel in ContactChannel:
            for kind in MessageKind:
                if kind == MessageKind.MARKETING and not marketing_allowed:
                    continue
                self.fields[_field(channel.value, kind.value)] = forms.BooleanField(
                    required=False, label=f"{channel.label}: {kind.label}"
                )

    def choices(self) -> dict[tuple[str, str], bool]:
        return {
            (channel, kind): self.cleaned_data[_field(channel, kind)]
            for channel in ContactChannel.values
            for kind in MessageKind.values
            if _field(channel, kind) in self.cleaned_data
        }


@require_http_methods(["GET", "POST"])
@patient_required
def notification_settings(request, me: Patient):
    return _settings_page(request, me, own=True, done_url=reverse("portal:notification_settings"))


@require_http_methods(["GET", "POST"])
@patient_required
def dependant_notification_settings(request, me: Patient, public_id):
    """A guardian sets which messages about their dependant go (a child's visits, say); a
    channel the dependant has no address on shows the guardian's that carries them."""
    person = managed_dependant(me, request.user, public_id)
    return _settings_page(
        request,
        person,
        own=False,
        done_url=reverse("portal:dependant_notifications", args=[person.public_id]),
    )


def _settings_page(request, person: Patient, *, own: bool, done_url: str):
    overview = contact_overview(patient=person)
    initial = {}
    for line in overview.lines:
        initial[_field(line.channel, MessageKind.CARE)] = line.care and not line.stopped
        initial[_field(line.channel, MessageKind.MARKETING)] = line.marketing and not line.stopped
    # A post with every switch off carries no switch at all: bound whenever it is a POST.
    form = ContactPreferencesForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        marketing_allowed=overview.marketing_consent,
    )
    if request.method == "POST" and form.is_valid():
        contact_preferences_set(actor=request.user, patient=person, choices=form.choices())
        messages.success(request, _("Message settings saved."))
        return redirect(done_url)
    rows = [
        {
            "line": line,
            "care": form[_field(line.channel, MessageKind.CARE)],
            "marketing": form[_field(line.channel, MessageKind.MARKETING)]
            if overview.marketing_consent
            else None,
        }
        for line in overview.lines
    ]
    return render(
        request,
        "portal/account/notification_settings.html",
        {
            "person": person,
            "viewer": getattr(request.user, "patient", None),
            "form": form,
            "rows": rows,
            "overview": overview,
            "own": own,
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
def telegram_link(request, me: Patient):
    """GET: whether a chat is linked. POST: a new one-time code and the bot's deep link."""
    code = expires_at = None
    if request.method == "POST":
        code, expires_at = messenger_link_code_issue(actor=request.user, patient=me)
    bot = settings.TELEGRAM_BOT_USERNAME
    return render(
        request,
        "portal/account/telegram_link.html",
        {
            "person": me,
            "linked": bool(messenger_chat_of(me)),
            "bot": bot,
            "code": code,
            "expires_at": expires_at,
            "deep_link": f"https://t.me/{bot}?start={code}" if bot and code else "",
            "ttl_minutes": settings.MESSENGER_LINK_CODE_TTL_MINUTES,
        },
    )


@require_POST
@patient_required
def telegram_unlink(request, me: Patient):
    if messenger_unlink(actor=request.user, patient=me):
        messages.success(
            request, _("The Telegram chat is unlinked. Nothing more will be sent there.")
        )
    else:
        messages.info(request, _("No Telegram chat was linked."))
    return redirect("portal:telegram_link")
