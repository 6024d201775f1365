"""Test settings: fixed keys, fast hashing, eager Celery unless a broker is given."""

import os

os.environ.setdefault("MEDFRONT_TESTING", "1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-" + "k3y" * 20)
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "X1mYFh5p2lRj3zEFWcO8OqKcXo3y2nUQ6mRb0B9wX2U=,7y6S0r3Ejq8V5mB2hN4kZQ1fT9cL0pW3xA6dG8sJ2uE=",
)
os.environ.setdefault("BLIND_INDEX_KEY", "ab" * 32)
os.environ.setdefault("AUDIT_SEAL_KEY", "5e" * 32)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
# Race tests run a dozen threads at once, each in a transaction of its own connection.
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "16")

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks in-process; the real broker is exercised by tests that ask for it explicitly.
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "portal.crypto.cache_key",
    }
}
# Each test process counts in its own cache; the shared store has tests of its own (Redis).
ALLOW_UNSHARED_CACHE = True
AUDIT_SEAL_GRACE = __import__("datetime").timedelta(seconds=0)
MFA_EXEMPT_DEMO_STAFF = False
# Tests run without DEBUG and deliver through the development sender.
NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER = True
# The browser test frames the lead form in a page served from another local port.
CRM_FORM_FRAME_ANCESTORS = ["https:", "http://127.0.0.1:*"]
