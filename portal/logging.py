"""Log filter that masks e-mail addresses and phone numbers, so no PII reaches the logs."""

import logging
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)\+?[78]?[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_TRACEBACKS = logging.Formatter()


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


class PiiScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # An exception's text (e.g. a value quoted in a database error) goes to the log with the
        # traceback: format it here, scrubbed; handlers then print `exc_text` as it is.
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(_TRACEBACKS.formatException(record.exc_info))
        return True
