"""Mapped rows of a file: each data row as {field: cell} through the job's column mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from clinicflow.imports.engine import fields as specs
from clinicflow.imports.engine.bulk import Issue
from clinicflow.imports.engine.clean import Clean, Ctx, RowProblem, clean_row
from clinicflow.imports.files import FileProblem, Source, cell_text, read_table


def mapped_rows(
    source: Source, kind: str, columns: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    table = read_table(source)
    problems = specs.check_mapping(kind, columns, table.headers)
    if problems:
        raise FileProblem("; ".join(problems))
    index = {name: table.headers.index(header) for name, header in columns.items()}
    for line, cells in table.rows:
        if not (cells and type(cells[0]) is str and cells[0].strip()) and not any(map(cell_text, cells)):
            continue  # an empty row (the first cell is checked alone first: the common case)
        yield line, {name: (cells[i] if i < len(cells) else None) for name, i in index.items()}


def cleaned(rows: Iterator[tuple[int, dict[str, Any]]], ctx: Ctx) -> Iterator[Clean | Issue]:
    for line, row in rows:
        try:
            yield clean_row(line, row, ctx)
        except RowProblem as exc:
            yield Issue(line, exc.field, exc.problem, exc.value)


@dataclass
class Preview:
    headers: list[str]
    columns: dict[str, str]
    rows: list[Clean] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def preview(
    source: Source, kind: str, columns: Mapping[str, str] | None, ctx: Ctx, limit: int = 20
) -> Preview:
    """The first ``limit`` rows as they will be stored, with the errors among them; ``columns`` None:
    the guessed mapping."""
    table = read_table(source)
    chosen = dict(columns) if columns is not None else specs.guess_mapping(kind, table.headers)
    result = Preview(
        headers=table.headers, columns=chosen, problems=specs.check_mapping(kind, chosen, table.headers)
    )
    if result.problems:
        return result
    for seen, item in enumerate(cleaned(mapped_rows(source, kind, chosen), ctx), start=1):
        if isinstance(item, Issue):
            result.issues.append(item)
        else:
            result.rows.append(item)
        if seen >= limit:
            break
    return result


def describe(issue: Issue, columns: Mapping[str, str]) -> str:
    """“line 12, column «Phone»: is not a valid phone number ('123')”."""
    column = columns.get(issue.field, issue.field)
    value = f" ({issue.value!r})" if issue.value else ""
    return f"line {issue.line}, column «{column}»: {issue.problem}{value}"
