"""gunicorn settings of a production server: `gunicorn -c config/gunicorn.conf.py`.

Workers, threads and binding come from the command line or GUNICORN_CMD_ARGS as usual; what
this file adds is that gunicorn's own logs keep no personal data or secrets: each access line
goes through `portal.logging.AccessLogMaskFilter` (calendar feed secrets, reset and
confirmation keys, query strings of patient routes) and the error log through
`PiiScrubFilter`. Django's loggers are filtered by `LOGGING` in the settings.
"""

import logging

wsgi_app = "config.wsgi:application"
# Access lines to stdout unless --access-logfile says otherwise.
accesslog = "-"


def on_starting(server):
    # Imported here, not above: gunicorn reads this file before it puts the project
    # directory on sys.path. Filters set on the loggers in the master are inherited by every
    # worker it forks.
    from portal.logging import AccessLogMaskFilter, PiiScrubFilter

    logging.getLogger("gunicorn.access").addFilter(AccessLogMaskFilter())
    logging.getLogger("gunicorn.error").addFilter(PiiScrubFilter())
