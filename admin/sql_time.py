"""Two time expressions the dashboard groups and measures by, in each database's SQL.

SQLite and PostgreSQL spell date arithmetic differently; these compile to each, so
the trends are computed by the database (GROUP BY, ORDER BY) on both, never by
loading cases into Python.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class week_start(FunctionElement[date]):
    """The Monday (UTC) of a moment's week, as a date."""

    type = Date()
    inherit_cache = True
    name = "week_start"


class hours_between(FunctionElement[float]):
    """``later - earlier`` in hours, as a float."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


def _args(element: Any, compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(week_start, "sqlite")
def _week_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    # Back six days, then on to the next Monday (or stay on it): this week's Monday.
    return "date({}, '-6 days', 'weekday 1')".format(*_args(element, compiler, **kw))


@compiles(week_start, "postgresql")
def _week_postgresql(element: week_start, compiler: Any, **kw: Any) -> str:
    return "CAST(date_trunc('week', timezone('UTC', {})) AS DATE)".format(
        *_args(element, compiler, **kw)
    )


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    return "((julianday({}) - julianday({})) * 24.0)".format(*_args(element, compiler, **kw))


@compiles(hours_between, "postgresql")
def _hours_postgresql(element: hours_between, compiler: Any, **kw: Any) -> str:
    return "(EXTRACT(EPOCH FROM ({} - {})) / 3600.0)".format(*_args(element, compiler, **kw))
