"""A few statements run on the SQLite driver's own connection (`sqlite3`), past SQLAlchemy's
execute path: a patient's issue, where that path (the compiled-statement cache lookup,
parameter processing, result wrapping, engine events) cost more CPU than SQLite itself took to
run its statements.

The transaction stays SQLAlchemy's: the statements run inside a Connection's transaction (begun
by the engine's own BEGIN IMMEDIATE handling, committed by SQLAlchemy) on its DBAPI connection.
Each statement is compiled by SQLAlchemy once per dialect; its parameters and result columns
are converted by their types' own processors (`TypeEngine.dialect_impl`, `bind_processor`,
`result_processor`), so what is stored and read is what SQLAlchemy would store and read. A
driver's error is raised as SQLAlchemy raises it (`DBAPIError.instance`: OperationalError,
IntegrityError, ... with `orig`). SQLAlchemy's engine events (`before_cursor_execute`, ...) do
not see these statements; sqlite3's trace callback does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

Row = tuple[Any, ...]


class DriverStatement:
    """One statement as SQL text for the driver, with the conversion of each parameter (in the
    order of its placeholders) and of each result column."""

    def __init__(
        self, statement: Any, dialect: Dialect, column_keys: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if dialect.paramstyle != "qmark" or compiled.positiontup is None:
            raise ValueError(f"not a positional SQLite statement: {compiled.string}")
        self.sql = compiled.string
        # (name, conversion, whether the caller gives it, the statement's own value: LIMIT)
        self._binds = tuple(
            (
                name,
                _processor(bind.type.dialect_impl(dialect).bind_processor(dialect)),
                bind.required,
                bind.effective_value,
            )
            for name, bind in ((name, compiled.binds[name]) for name in compiled.positiontup)
        )
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._results = tuple((i, p) for i, p in enumerate(processors) if p is not None)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            convert(values[name] if required else values.get(name, default))
            for name, convert, required, default in self._binds
        )

    def convert(self, row: Row) -> Row:
        if not self._results:
            return row
        converted = list(row)
        for index, process in self._results:
            converted[index] = process(converted[index])
        return tuple(converted)


def _processor(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


class Rows:
    """A statement's result rows, converted (what a Connection's `execute` answers, in part)."""

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def all(self) -> list[Row]:
        return self._rows

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


# (a statement's id, the column keys of an INSERT) -> (the statement, kept alive, its form);
# one such cache per engine (its dialect compiles and converts).
Prepared = dict[tuple[int, tuple[str, ...] | None], tuple[Any, DriverStatement]]


class DriverConnection:
    """Runs statements built once (module-level: their identity is their key in `prepared`)
    on the DBAPI connection of `connection`, in whatever transaction it is in. SQLite only."""

    def __init__(self, connection: Connection, prepared: Prepared) -> None:
        if connection.dialect.name != "sqlite":
            raise ValueError("DriverConnection is for SQLite")
        self.connection = connection
        self.dialect = connection.dialect
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver
        self._prepared = prepared

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Rows:
        # An INSERT compiles for the columns it is given (as SQLAlchemy's would).
        keys = tuple(values) if isinstance(statement, Insert) else None
        found = self._prepared.get((id(statement), keys))
        if found is None:
            found = self._prepared[(id(statement), keys)] = (
                statement,
                DriverStatement(statement, self.dialect, keys),
            )
        prepared = found[1]
        parameters = prepared.parameters(values)
        try:
            rows = self._driver.execute(prepared.sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise _as_sqlalchemy_error(exc, prepared.sql, parameters) from exc
        return Rows([prepared.convert(row) for row in rows])


def _as_sqlalchemy_error(
    exc: sqlite3.Error, statement: str, parameters: tuple[Any, ...]
) -> DBAPIError:
    error = DBAPIError.instance(statement, parameters, exc, sqlite3.Error)
    assert isinstance(error, DBAPIError)
    return error
