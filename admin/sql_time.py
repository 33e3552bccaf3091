"""Two time expressions the dashboard groups and measures by, in each database's SQL.

SQLite and PostgreSQL spell date arithmetic differently; these compile to each, so
the trends are computed by the database (GROUP BY, ORDER BY) on both, never by
loading cases into Python.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

EPOCH_MONDAY = date(1970, 1, 5)  # weeks are counted from this Monday, 00:00 UTC


class week_number(FunctionElement[int]):
    """Whole weeks from ``EPOCH_MONDAY`` to a moment: weeks start on Monday 00:00 UTC.
    Plain arithmetic on each database's day count, the cheapest per row."""

    type = Integer()
    inherit_cache = True
    name = "week_number"


def monday(week: int) -> date:
    """The Monday a ``week_number`` starts on."""
    return EPOCH_MONDAY + timedelta(weeks=week)


class hours_between(FunctionElement[float]):
    """``later - earlier`` in hours, as a float."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


def _args(element: Any, compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(week_number, "sqlite")
def _week_sqlite(element: week_number, compiler: Any, **kw: Any) -> str:
    # julianday('1970-01-05') is 2440591.5; a cast truncates, and every moment is later.
    return "CAST((julianday({}) - 2440591.5) / 7 AS INTEGER)".format(
        *_args(element, compiler, **kw)
    )


@compiles(week_number, "postgresql")
def _week_postgresql(element: week_number, compiler: Any, **kw: Any) -> str:
    # 1970-01-05 is 4 days (345,600 s) after the Unix epoch; a week is 604,800 s.
    return "CAST(FLOOR((EXTRACT(EPOCH FROM {}) - 345600) / 604800) AS INTEGER)".format(
        *_args(element, compiler, **kw)
    )


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    return "((julianday({}) - julianday({})) * 24.0)".format(*_args(element, compiler, **kw))


@compiles(hours_between, "postgresql")
def _hours_postgresql(element: hours_between, compiler: Any, **kw: Any) -> str:
    return "(EXTRACT(EPOCH FROM ({} - {})) / 3600.0)".format(*_args(element, compiler, **kw))
