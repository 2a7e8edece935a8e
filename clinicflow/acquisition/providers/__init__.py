"""Telephony providers. Each folder normalises its provider's webhook payload into one ``CallEvent``
and, where the provider signs requests, verifies the signature over the raw body."""

from __future__ import annotations

from clinicflow.acquisition.providers import callrail, calltouch, generic
from clinicflow.acquisition.providers.base import CallEvent, PayloadError, ProviderSpec, SignatureError

PROVIDERS: dict[str, ProviderSpec] = {
    "generic": generic.SPEC,
    "callrail": callrail.SPEC,
    "calltouch": calltouch.SPEC,
}

__all__ = ["PROVIDERS", "CallEvent", "PayloadError", "ProviderSpec", "SignatureError"]
