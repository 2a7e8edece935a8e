"""Call ingestion: a provider's call event becomes one stored call with its attribution, patient match,
uniqueness and callback (idempotent by the provider's call id); refused deliveries become dead letters.

``rules`` states each rule once; ``portable`` (any database) and ``pgsql`` (one prepared PostgreSQL
statement, for the webhook's throughput) are both built from it; ``ingest.call_ingest`` picks one."""

from __future__ import annotations

from clinicflow.acquisition.ingestion.event import IngestResult
from clinicflow.acquisition.ingestion.ingest import call_ingest
from clinicflow.acquisition.ingestion.lookups import clear_caches

__all__ = ["IngestResult", "call_ingest", "clear_caches"]
