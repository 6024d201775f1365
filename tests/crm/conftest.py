# The telephony fixtures, for the tests of calls becoming leads.
from tests.telephony.conftest import generic_account, line_a, webhook_client  # noqa: F401
