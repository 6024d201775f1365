"""Sign-in lockout per account + client IP, with a cool-off.

Counting by the pair (not by IP alone) means a clinic behind one NAT address is not locked out
by one person's typos, and one account cannot be brute-forced from one address. Cache keys hold
only a keyed digest of the identifier: no e-mail or phone reaches Redis.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from portal.crypto import blind_index


def _key(identifier: str, ip: str | None) -> str:
    digest = blind_index("lockout", f"{(identifier or '').strip().lower()}|{ip or '-'}")
    return f"login-failures:{digest}"


def login_is_locked(*, identifier: str, ip: str | None) -> bool:
    failures: int = cache.get(_key(identifier, ip)) or 0
    limit: int = settings.LOGIN_FAILURE_LIMIT
    return failures >= limit


def login_failed(*, identifier: str, ip: str | None) -> int:
    """Count one failure; the counter expires a cool-off after the last failure."""
    key = _key(identifier, ip)
    timeout = int(settings.LOGIN_COOLOFF.total_seconds())
    if cache.add(key, 1, timeout):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout)
        return 1
    cache.touch(key, timeout)
    return count


def login_succeeded(*, identifier: str, ip: str | None) -> None:
    cache.delete(_key(identifier, ip))
