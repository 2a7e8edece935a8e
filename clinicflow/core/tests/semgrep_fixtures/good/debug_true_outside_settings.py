import os

from django.conf import settings

DEBUG = os.environ.get("DEBUG") == "1"


def show_errors() -> bool:
    return bool(settings.DEBUG)
