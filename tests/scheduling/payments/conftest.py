import pytest

from tests.scheduling.payments.yookassa_server import SECRET_KEY, SHOP_ID, FakeYooKassa


@pytest.fixture
def yookassa(settings):
    """A local YooKassa, configured as the site's provider; webhooks come from 127.0.0.1."""
    fake = FakeYooKassa().start()
    settings.PAYMENT_PROVIDER = "yookassa"
    settings.YOOKASSA_SHOP_ID = SHOP_ID
    settings.YOOKASSA_SECRET_KEY = SECRET_KEY
    settings.YOOKASSA_API_URL = fake.url
    settings.YOOKASSA_WEBHOOK_NETWORKS = ["127.0.0.1/32"]
    yield fake
    fake.stop()
