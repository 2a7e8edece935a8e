"""The subject-access export (GDPR Art 15 and 20, 152-FZ Art 14, PIPL Art 45): one ZIP with
``export.json`` (everything held, ``collect``), ``summary.pdf`` (a readable summary: the patient's
details and how many records of each kind) and ``photos/`` (the clinical photos' files from private
storage). Built within the request; the request is logged and audited."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.accounts.models import User
from clinicflow.clinical.models import Photo
from clinicflow.clinical.pdf import Document, render
from clinicflow.clinical.services.photos import photo_bytes
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, Organization
from clinicflow.patients.models import Patient
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.rights.collect import collect
from clinicflow.privacy.rights.requests import request_close, request_open

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def summary_pdf(org: Organization, patient: Patient, data: dict[str, Any]) -> bytes:
    details = data["patient"]
    table: list[list[str]] = [[_("Kind of record"), _("Rows")]]
    table += [[label, str(len(rows))] for label, rows in sorted(data["records"].items())]
    doc = Document(
        title=_("Personal data held"),
        language=patient.preferred_language or "en",
        subtitle_lines=[
            org.display_name,
            _("Patient: %(name)s") % {"name": patient.full_name},
            _("Exported at: %(at)s") % {"at": timezone.now().strftime("%Y-%m-%d %H:%M UTC")},
        ],
        paragraphs=[f"{key}: {value}" for key, value in details.items() if value not in ("", None)],
        table=table,
        numeric_columns=[1],
    )
    return render(doc)


def build_archive(org: Organization, patient: Patient) -> tuple[bytes, dict[str, Any]]:
    """The export's ZIP and its JSON document."""
    data = collect(org, patient)
    data["exported_at"] = timezone.now().isoformat()
    data["organization"] = {"name": org.name, "country": org.country, "data_region": org.data_region}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        photos = Photo.objects.for_org(org).filter(patient=patient).order_by("taken_at", "pk")
        files: list[str] = []
        for photo in photos:
            name = f"photos/{photo.pk}.{EXTENSIONS.get(photo.content_type, 'bin')}"
            try:
                archive.writestr(name, photo_bytes(photo), compress_type=zipfile.ZIP_STORED)
            except FileNotFoundError:
                name = ""
            if name:
                files.append(name)
        data["files"] = files
        archive.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True))
        archive.writestr("summary.pdf", summary_pdf(org, patient, data))
    return buffer.getvalue(), data


def subject_export(
    *, org: Organization, actor: User | None, patient: Patient, request: HttpRequest | None = None
) -> tuple[SubjectRequest, bytes]:
    """Log the request, build the archive, close the request; returns both."""
    row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.EXPORT, actor=actor)
    archive, data = build_archive(org, patient)
    counts = {label: len(rows) for label, rows in data["records"].items()}
    request_close(row, outcome={"records": counts, "files": len(data["files"]), "bytes": len(archive)})
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="patient",
        object_id=patient.pk,
        request=request,
    )
    return row, archive
