"""Pages of the clinical records: photos."""

from __future__ import annotations

from django.urls import URLPattern

paths: list[URLPattern] = []
