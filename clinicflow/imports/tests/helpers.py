"""Helpers of the imports tests: write files, run the engine as the command and pages do."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from clinicflow.core.models import Branch, Organization
from clinicflow.imports import services
from clinicflow.imports.engine import fields as specs
from clinicflow.imports.files import open_source, read_table
from clinicflow.imports.models import ImportJob


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = "\r\n".join(delimiter.join(cells) for cells in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def run_file(
    path: Path,
    *,
    org: Organization,
    branch: Branch,
    kind: str,
    source: str = "legacy",
    mode: str = "all",
    on_duplicate: str = "flag",
    dry_run: bool = False,
    columns: dict[str, str] | None = None,
) -> ImportJob:
    ext = path.suffix.lstrip(".")
    if columns is None:
        columns = specs.guess_mapping(kind, read_table(open_source(path, ext)).headers)
    with path.open("rb") as stream:
        name, ext = services.store_upload(
            org=org, stream=stream, size=path.stat().st_size, filename=path.name
        )
    job = services.job_create(
        org=org,
        actor=None,
        branch=branch,
        kind=kind,
        source=source,
        stored_name=name,
        ext=ext,
        filename=path.name,
        columns=columns,
        mode=mode,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
    )
    return services.job_run(job=job)


PATIENTS = [
    ["id", "Last name", "First name", "Phone", "E-mail", "Birth date"],
    ["p1", "Ivanova", "Anna", "+7 916 123-45-67", "anna@example.com", "1990-05-01"],
    ["p2", "Petrov", "Oleg", "8 (916) 222-33-44", "", "12.03.1985"],
]
