"""Gunicorn settings of SIPROC's web workers: `gunicorn -c deploy/gunicorn.conf.py app.wsgi:app`.

Environment: SIPROC_BIND (127.0.0.1:8000), SIPROC_WORKERS (2 x cores + 1, at most 8), SIPROC_TRUSTED_PROXY_IPS
(127.0.0.1: the addresses of the reverse proxy, whose X-Forwarded-Proto gunicorn trusts). See docs/PRODUCTION.md.
"""
import multiprocessing
import os

bind = os.environ.get("SIPROC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SIPROC_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))

# sync workers (one request at a time per process), not gthread with 4 threads:
# * A worker recycled by max_requests (or by a reload) must not drop connections. A sync worker finishes its one
#   request and exits; a gthread worker exits leaving the connections it had accepted but not yet read (idle
#   keep-alive ones, or ones whose request is still arriving) to be reset. Measured with devtools/loadtest/run.py (40
#   officers, 4 workers, a restart every ~150 requests, 11 restarts in 40 s): sync 0 connection resets; gthread
#   4 with keep-alive off and 59 with keep-alive on, POSTs among them (behind nginx: 502s). Same throughput
#   (53 vs 51 req/s on 2 shared cores), lower median for sync (38 vs 56 ms).
# * nginx buffers requests and responses (deploy/nginx.conf), so a slow client never holds a sync worker, and
#   the work is mostly CPU (templates, the workflow engine, Argon2 at login), which threads would share under
#   one GIL anyway: capacity comes from the number of processes.
# * The price: a request running longer than `timeout` is killed. The case-list XLSX export is built in memory
#   (about 5 s per 20,000 cases measured here), so beyond roughly 200,000 cases per export use CSV (0.6 s per
#   20,000 rows) or narrower filters, or raise `timeout`.
worker_class = "sync"
threads = 1  # more than 1 would turn the sync worker into gthread

timeout = 60  # a worker silent this long (a request running this long) is killed and replaced
graceful_timeout = 30  # on HUP/TERM, requests in progress get this long to finish
max_requests = 2000  # recycle each worker after this many requests (bounds slow memory growth) ...
max_requests_jitter = 200  # ... at different moments, so the workers never restart together
preload_app = False  # each worker imports the app itself: `kill -HUP` (systemctl reload) loads new code

# Only the reverse proxy's X-Forwarded-* headers are trusted (the application's own ProxyFix is set by
# SIPROC_TRUSTED_PROXIES=1; this one is gunicorn's, for the scheme it reports).
forwarded_allow_ips = os.environ.get("SIPROC_TRUSTED_PROXY_IPS", "127.0.0.1")

# Logs to stdout/stderr: systemd's journal collects them (journalctl -u siproc-web).
# The access log shows the path without its query string (%(U)s, not %(r)s), and no Referer, which would
# carry the previous page's query string: searches hold names and identity numbers.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = ('%(h)s fwd=%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms '
                     '"%(a)s"')
proc_name = "siproc-web"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat files off the disk
