"""The user's chosen language follows them: saved on the user by `portal:set_language`, put
back into the language cookie when they sign in (URLs carry no language prefix)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


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


def apply_preferred_language(sender, request=None, response=None, user=None, **kwargs) -> None:
    """allauth's `user_logged_in` receiver: it passes the response, so the cookie can be set."""
    language = getattr(user, "preferred_language", "") or ""
    if response is None or language not in dict(settings.LANGUAGES):
        return
    set_language_cookie(response, language)
    translation.activate(language)
    if request is not None:
        request.LANGUAGE_CODE = language


def connect() -> None:
    from allauth.account.signals import user_logged_in

    user_logged_in.connect(apply_preferred_language, dispatch_uid="portal.preferred_language")
