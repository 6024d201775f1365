import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

# Load every URL pattern, and the views behind them, now rather than on the first request;
# then move all that start-up state, which lives as long as the process, out of the cyclic
# garbage collector's way: a full collection would otherwise walk it again and again.
# (Measured: 0.56 ms of collector time per booking without this, 0.15 ms with it.)
from django.urls import get_resolver  # noqa: E402 - needs the settings configured above

get_resolver().url_patterns  # noqa: B018 - imported for its side effect: the views load
gc.collect()
gc.freeze()
