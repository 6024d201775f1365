"""Settings of online prepayment (README "Payments"), imported by `config.settings.base`."""

from django.core.exceptions import ImproperlyConfigured

from config import secrets as secret_store
from config.settings.environment import DEBUG, TESTING, env

# --- Payments (online prepayment of visits) ---------------------------------------------------
# `test`: the built-in test provider (its own pay/fail page); `yookassa`; `none`: no online
# prepayment (services marked prepaid in a booking policy are booked as usual).
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test" if DEBUG or TESTING else "none")
if PAYMENT_PROVIDER not in ("test", "yookassa", "none"):
    raise ImproperlyConfigured("PAYMENT_PROVIDER must be one of: test, yookassa, none.")
if PAYMENT_PROVIDER == "test" and not (DEBUG or TESTING):
    # Its page marks any payment paid: never in production.
    raise ImproperlyConfigured("PAYMENT_PROVIDER=test is allowed only with DEBUG on.")
# How long an unpaid prepaid booking keeps its time.
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=15)
if PAYMENT_HOLD_MINUTES < 1:
    raise ImproperlyConfigured("PAYMENT_HOLD_MINUTES must be at least 1.")
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = secret_store.read_secret("YOOKASSA_SECRET_KEY") or ""
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="https://api.yookassa.ru/v3")
# The addresses YooKassa sends notifications from (its documentation lists them).
YOOKASSA_WEBHOOK_NETWORKS = env.list(
    "YOOKASSA_WEBHOOK_NETWORKS",
    default=[
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11/32",
        "77.75.156.35/32",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)
if PAYMENT_PROVIDER == "yookassa" and not (YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=yookassa needs YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY "
        "(or YOOKASSA_SECRET_KEY_FILE)."
    )
