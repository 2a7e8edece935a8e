"""Messaging pages for managers: the outbox."""

from __future__ import annotations

from django.http import HttpResponse

from clinicflow.core.access import AuthedRequest, require_perm


@require_perm("messaging.view")
def message_list(request: AuthedRequest) -> HttpResponse:
    return HttpResponse("")
