"""Conditions written once as data and rendered twice: as a Django ``Q`` for the portable path and as
SQL for the PostgreSQL statement.

A term is ``(column, lookup, name)``: the column (``relation__column`` for one join), a lookup among
``LOOKUPS`` or ``isnull`` (which takes True and is ``IS NULL`` in SQL), and the name of the value it
compares with. ``as_q`` takes the values; ``as_sql`` writes ``%(name)s`` placeholders, or the SQL
expression ``refs`` gives for that name (such as a column of another row of the statement)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

Term = tuple[str, str, str]
Terms = tuple[Term, ...]

LOOKUPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "= ANY"}
NO_REFS: Mapping[str, str] = {}


def as_q(terms: Terms, values: Mapping[str, Any]) -> Q:
    """The terms as one ORM condition (``in`` takes a sequence)."""
    return Q(**{f"{column}__{lookup}": values[name] for column, lookup, name in terms})


def _column(column: str, aliases: Mapping[str, str]) -> str:
    relation, _, name = column.rpartition("__")
    return f"{aliases[relation]}.{name}"


def as_sql(terms: Terms, aliases: str | Mapping[str, str], refs: Mapping[str, str] = NO_REFS) -> str:
    """The terms as SQL (joined by AND) on the table ``aliases`` (or on ``{"": alias, relation: alias}``
    when a term goes through a relation)."""
    by_relation = {"": aliases} if isinstance(aliases, str) else aliases
    parts = []
    for column, lookup, name in terms:
        if lookup == "isnull":
            parts.append(f"{_column(column, by_relation)} IS NULL")
            continue
        value = refs.get(name, f"%({name})s")
        operator = LOOKUPS[lookup]
        right = f"({value})" if lookup == "in" else value
        parts.append(f"{_column(column, by_relation)} {operator} {right}")
    return " AND ".join(parts)
