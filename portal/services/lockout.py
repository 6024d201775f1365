"""Sign-in lockout per account + client IP with a cool-off, the same for every way in.

The password form, the sign-in code forms, the second-factor step and the API token endpoint
all count here, against one subject per account: the login an identifier names (whatever
spelling, e-mail or phone was typed), or the identifier's canonical spelling when it names
none. Counting by the pair (not by IP alone) means a clinic behind one NAT address is not
locked out by one person's typos, and one account cannot be brute-forced from one address; a
much higher ceiling per IP over all accounts stops credential stuffing. Keys are keyed digests
(`portal.services.limits`): no e-mail, phone or address reaches the store.
"""

from __future__ import annotations

from django.conf import settings

from portal.models import User
from portal.normalize import canonical_login
from portal.selectors.accounts import login_for_identifier
from portal.services import limits


def lockout_subject(*, identifier: str) -> str:
    """What a sign-in naming `identifier` counts against: its login, else its canonical form."""
    user = login_for_identifier(identifier=identifier)
    if user is not None:
        return user_subject(user=user)
    return f"login:{canonical_login(identifier)}"


def user_subject(*, user: User) -> str:
    """The subject of a known login (second-factor and code steps, which know the user)."""
    return f"user:{user.pk}"


def _pair_key(subject: str, ip: str | None) -> str:
    return limits.store_key("login-failures", f"{subject}|{ip or '-'}")


def _ip_key(ip: str) -> str:
    return limits.store_key("login-failures-ip", ip)


def login_locked_for(*, subject: str, ip: str | None) -> int:
    """Seconds until `subject` may try again from `ip`; 0 when it may now."""
    keys = [(_pair_key(subject, ip), int(settings.LOGIN_FAILURE_LIMIT))]
    if ip:
        keys.append((_ip_key(ip), int(settings.LOGIN_IP_FAILURE_LIMIT)))
    waits = [
        limits.counter_retry_after(key=key)
        for key, limit in keys
        if limits.counter_value(key=key) >= limit
    ]
    return max(waits, default=0)


def login_failed(*, subject: str, ip: str | None) -> None:
    """Count one failure; each counter lapses a cool-off after its latest failure."""
    limits.counter_add(key=_pair_key(subject, ip), window=settings.LOGIN_COOLOFF, sliding=True)
    if ip:
        limits.counter_add(key=_ip_key(ip), window=settings.LOGIN_COOLOFF, sliding=True)


def login_succeeded(*, subject: str, ip: str | None) -> None:
    """Forget the pair's failures. The IP's count stays: one good password among many guesses
    must not reset a stuffing attacker's budget."""
    limits.counter_clear(key=_pair_key(subject, ip))
