"""WSGI entry point of the production web workers: `gunicorn -c deploy/gunicorn.conf.py app.wsgi:app`.

Configuration comes from SIPROC_* environment variables (docs/PRODUCTION.md). Web workers never run the timer
scheduler: create_app() starts none (only `flask siproc serve` starts one in its own process, and
`flask siproc scheduler` is the production scheduler process). SCHEDULER_ENABLED is forced off here, after the
environment is read, so a web worker's readiness (/listo) never depends on the scheduler process: a stopped
scheduler must not take every web worker out of the proxy's rotation. Monitor the scheduler with
`/listo?planificador=1` instead.
"""
from . import create_app

app = create_app({"SCHEDULER_ENABLED": False})
