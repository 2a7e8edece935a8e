"""gunicorn settings for production: ``gunicorn -c config/gunicorn.py config.wsgi:application``.

One worker process per core with two threads each: Python runs one thread per process at a time,
and the booking bench showed that more threads per process only queue behind that lock (50 clients:
POST p95 590 ms with 2 processes x 8 threads, 114-119 ms with 2 x 2 on the same 2 cores).
Every value can be overridden from the environment. The production profile is the default; a
development server needs ``CLINICFLOW_ENV=development`` set explicitly.
"""

import os

os.environ.setdefault("CLINICFLOW_ENV", "production")

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", str(os.cpu_count() or 1)))
threads = int(os.environ.get("WEB_THREADS", "2"))
worker_class = "gthread"
backlog = int(os.environ.get("WEB_BACKLOG", "256"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
keepalive = 5
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
