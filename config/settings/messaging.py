"""Settings of the SMS providers and the Telegram bot (README "Messaging providers"), imported
by `config.settings.base`."""

from config import secrets as secret_store
from config.settings.environment import env

# --- SMS providers (README "Messaging providers") --------------------------------------------
# Name one for the SMS channel in NOTIFICATION_SENDERS, e.g.
# NOTIFICATION_SENDERS="sms=notifications.senders.smsru.SmsRuSender".
SMS_PROVIDER_TIMEOUT_SECONDS = env.float("SMS_PROVIDER_TIMEOUT_SECONDS", default=10.0)
SMSRU_API_URL = env.str("SMSRU_API_URL", default="https://sms.ru")
SMSRU_API_ID = secret_store.read_secret("SMSRU_API_ID") or ""
SMSRU_SENDER_NAME = env.str("SMSRU_SENDER_NAME", default="")
# test=1: SMS.ru checks the request and answers as usual but sends nothing and charges nothing.
SMSRU_TEST = env.bool("SMSRU_TEST", default=False)
# The secret part of the status callback address /notifications/sms/smsru/<token>/status/
# (SMS.ru signs nothing); empty turns the callback off.
SMSRU_CALLBACK_TOKEN = secret_store.read_secret("SMSRU_CALLBACK_TOKEN") or ""
TWILIO_API_URL = env.str("TWILIO_API_URL", default="https://api.twilio.com")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = secret_store.read_secret("TWILIO_AUTH_TOKEN") or ""
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# The public address of /notifications/sms/twilio/status/ exactly as Twilio calls it: Twilio
# signs this URL, so it is given here rather than rebuilt behind proxies. Empty: no callbacks.
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default="")
# The public address of /notifications/sms/twilio/inbound/ as Twilio calls it (the number's
# "A message comes in" webhook); Twilio signs it. Empty: inbound SMS from Twilio are refused.
TWILIO_INBOUND_URL = env.str("TWILIO_INBOUND_URL", default="")

# --- Telegram bot and inbound replies (README "Telegram bot" and "Replies: STOP, HELP...") --
# Name it for the messenger channel:
# NOTIFICATION_SENDERS="messenger=notifications.senders.telegram.TelegramSender".
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
TELEGRAM_BOT_TOKEN = secret_store.read_secret("TELEGRAM_BOT_TOKEN") or ""
# The bot's @username without the @, for the t.me/<bot>?start=<code> link in the portal.
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="")
# Given to setWebhook as secret_token; Telegram sends it back in
# X-Telegram-Bot-Api-Secret-Token. Empty: the webhook answers 404.
TELEGRAM_WEBHOOK_SECRET = secret_store.read_secret("TELEGRAM_WEBHOOK_SECRET") or ""
# How long a code shown in the portal may be used to link a chat.
MESSENGER_LINK_CODE_TTL_MINUTES = env.int("MESSENGER_LINK_CODE_TTL_MINUTES", default=15)
# The answer to HELP (ПОМОЩЬ): how to reach the clinic. Empty: a default naming the network.
INBOUND_HELP_TEXT = env.str("INBOUND_HELP_TEXT", default="")
