"""Project configuration: settings, URLs, the API root, gunicorn.

Imported before NumPy by every entry point (``clinicflow``/``manage.py``, ``config.wsgi``, gunicorn, the
worker, pytest-django): one BLAS thread per process unless the environment says otherwise. Each web
worker and the background worker are processes of their own, one per core; BLAS's own thread pool on
top of them only oversubscribes the cores (the planner's fit measured 2.5 s of regressions with the
default pool against 0.17 s with one thread on a shared two-core machine).
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
