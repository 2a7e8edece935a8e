"""Pages of the clinical records: treatments."""

from __future__ import annotations

from django.urls import URLPattern

paths: list[URLPattern] = []
