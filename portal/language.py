"""The user's chosen language follows them (URLs carry no language prefix).

- Signed in, the language switch saves the choice on the account (`account_language_set`).
- Before sign-in, the switch notes the choice in the session; signing in keeps it and saves it
  to the account, so the page does not jump to another language at the moment of sign-in.
- Otherwise signing in applies the account's saved language (a cookie left from an earlier
  visit, or the browser's preference, is no choice made now); an account without one saves
  the language its pages were read in.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from portal.services.accounts import account_language_set

CHOSEN_KEY = "medfront_chosen_language"


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def is_supported(language: str) -> bool:
    return language in dict(settings.LANGUAGES)


def remember_choice(request, language: str) -> None:
    """The language switch was used: save it on the account, or note it in the session until
    the visitor signs in."""
    if not is_supported(language):
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        account_language_set(user=user, language=language)
    elif hasattr(request, "session"):
        request.session[CHOSEN_KEY] = language


def apply_preferred_language(sender, request=None, response=None, user=None, **kwargs) -> None:
    """allauth's `user_logged_in` receiver: it passes the response, so the cookie can be set."""
    chosen = ""
    if request is not None and hasattr(request, "session"):
        chosen = request.session.pop(CHOSEN_KEY, "") or ""
    saved = getattr(user, "preferred_language", "") or ""
    if not is_supported(chosen) and not saved:
        # An account without a saved language keeps the one its pages were read in.
        chosen = translation.get_language() or ""
    if is_supported(chosen) and user is not None:
        account_language_set(user=user, language=chosen)
    language = chosen if is_supported(chosen) else saved
    if response is None or not is_supported(language):
        return
    set_language_cookie(response, language)
    translation.activate(language)
    if request is not None:
        request.LANGUAGE_CODE = language


def connect() -> None:
    from allauth.account.signals import user_logged_in

    user_logged_in.connect(apply_preferred_language, dispatch_uid="portal.preferred_language")
