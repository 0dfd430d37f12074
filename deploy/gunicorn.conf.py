"""gunicorn settings for the tracker's website.

    gunicorn -c gunicorn.conf.py 'tracker:create_app()'


Used by ``scripts/run.sh`` and by ``deploy/tracker-web.service``; the choice of several
``gthread`` workers is explained in ``docs/architecture.md``. Environment variables:

  TRACKER_BIND          address to listen on (default 127.0.0.1:8000; nginx proxies to it)
  TRACKER_WEB_WORKERS   worker processes (default: one per CPU core, at least 2)
  TRACKER_WEB_THREADS   threads per worker (default 4)
"""

import os

bind = os.environ.get("TRACKER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TRACKER_WEB_WORKERS") or max(2, os.cpu_count() or 1))
threads = int(os.environ.get("TRACKER_WEB_THREADS") or 4)
worker_class = "gthread"
# A request that runs longer than this (the largest workbook export takes seconds) is a hung
# worker: gunicorn replaces it. nginx's proxy_read_timeout is set a little higher.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so that slow growth of memory never accumulates.
max_requests = 2000
max_requests_jitter = 200
# One access line per request on standard output, errors on standard error: journald or
# run.sh's terminal keeps them.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The application alone decides which proxy's X-Forwarded-* to believe
# (TRACKER_TRUSTED_PROXIES); gunicorn's own scheme handling is switched off.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""
control_socket_disable = True  # gunicorn ≥ 27: no control socket in $HOME
