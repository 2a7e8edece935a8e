"""A friend's referral code on the public booking page (``/book/<branch>/?ref=CODE``): a hook the
ledger fills.

The referral codes and the rewards live in the ledger, a layer above booking, which booking never
imports. ``LedgerConfig.ready`` registers its linker; the online booking keeps the code through its
steps (the slot links, the details form, the code page's address) and, once the booking is made,
calls ``referral_link_online`` with the patient it booked for. A code that is malformed, unknown,
the patient's own, or a patient already referred or paying is simply not linked: the booking stands
either way and the patient is never shown why."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction

from clinicflow.core.errors import DomainError
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient

log = logging.getLogger(__name__)

# (org=, referred=, code=) -> the referral row; DomainError when refused
Linker = Callable[..., Any]

_linkers: list[Linker] = []
CODE = re.compile(r"[A-Za-z0-9]{4,16}")


def register_referral_linker(linker: Linker) -> None:
    if linker not in _linkers:
        _linkers.append(linker)


def clean_ref(value: object) -> str:
    """The ``ref`` parameter as it is carried through the steps: a plausible code, upper case, or ""."""
    text = str(value or "").strip()
    return text.upper() if CODE.fullmatch(text) else ""


def referral_link_online(*, org: Organization, patient: Patient, code: object) -> bool:
    """Link the patient just booked online to the referrer of ``code``; True when linked."""
    clean = clean_ref(code)
    if not clean or not _linkers:
        return False
    try:
        with transaction.atomic():
            _linkers[-1](org=org, referred=patient, code=clean)
    except DomainError as exc:
        log.info("online booking: referral code not linked (%s)", exc.code)
        return False
    return True
