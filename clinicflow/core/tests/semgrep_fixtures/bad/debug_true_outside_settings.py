from django.conf import settings

DEBUG = True  # ruleid


def enable() -> None:
    settings.DEBUG = True  # ruleid
