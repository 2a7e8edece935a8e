"""Reports: each is a registered ReportSpec; one page, one JSON endpoint and CSV/XLSX exports serve all.

A report module calls ``register(ReportSpec(...))`` at import; modules are listed in REPORT_MODULES
and imported by ``load_reports()``.
"""

from clinicflow.analytics.reports.base import (
    REGISTRY,
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    get_report,
    load_reports,
    register,
)

__all__ = [
    "REGISTRY",
    "ChartSpec",
    "Column",
    "ReportContext",
    "ReportResult",
    "ReportSpec",
    "get_report",
    "load_reports",
    "register",
]
