"""The ``clinicflow`` console command: Django's management commands under one name."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line  # reads the settings only when run


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("CLINICFLOW_ENV", "").lower() == "production":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    args = list(sys.argv if argv is None else ["clinicflow", *argv])
    args[0] = "clinicflow"
    execute_from_command_line(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
