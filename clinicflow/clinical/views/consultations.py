"""Pages of the clinical records: consultations."""

from __future__ import annotations

from django.urls import URLPattern

paths: list[URLPattern] = []
