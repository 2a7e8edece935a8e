from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.ingestion.senders import clear_cache
from clinicflow.acquisition.integrations import services
from clinicflow.acquisition.models import Integration
from clinicflow.acquisition.tracking import public_views

PROVIDERS_DIR = Path(__file__).resolve().parent.parent / "providers"


def fixture_bodies(provider: str) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((PROVIDERS_DIR / provider / "fixtures").glob("*.json"))]


def load(provider: str, name: str) -> dict[str, Any]:
    return json.loads((PROVIDERS_DIR / provider / "fixtures" / name).read_text())


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_cache()
    ingestion.clear_caches()
    public_views._settings_cache.clear()


@pytest.fixture
def make_integration(org: Any) -> Any:
    def make(
        provider: str = "generic", signing_key: str = "", target_org: Any = None
    ) -> tuple[Integration, str]:
        return services.integration_create(
            org=target_org or org, actor=None, provider=provider, signing_key=signing_key
        )

    return make
