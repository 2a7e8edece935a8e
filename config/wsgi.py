"""The WSGI entry point: the production profile unless ``CLINICFLOW_ENV=development`` is set.

``runserver`` imports this module after the console command has loaded the settings (development by
default); the profile is then already chosen and left alone."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

if not settings.configured:
    os.environ.setdefault("CLINICFLOW_ENV", "production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
