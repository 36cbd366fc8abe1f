"""Helpers for the few set-based statements written in SQL."""

import weakref
from typing import Any

from django.db import connection


def insert_select_parts(model, special: dict) -> tuple[list[str], list[str], list]:
    """Column list, SELECT expressions and parameters to INSERT … SELECT rows of `model`.

    `special` maps a field name to (SQL expression, parameter or None); every other NOT NULL
    column gets its model default as a parameter, whatever fields the model has by then.
    """
    columns, exprs, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.name in special:
            expr, value = special[f.name]
        elif f.null:
            continue
        else:
            expr, value = "%s", f.get_db_prep_save(f.get_default(), connection)
        columns.append(connection.ops.quote_name(f.column))
        exprs.append(expr)
        if value is not None:
            params.append(value)
    return columns, exprs, params


# The statements each PostgreSQL session has prepared, by the driver's connection (a new
# connection, after CONN_MAX_AGE or a reconnect, starts with none).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def execute_prepared(cursor: Any, name: str, sql: str, params: list[Any], types: str) -> None:
    """Run a hot read as a PostgreSQL prepared statement: prepared once per database
    session, then executed with its parameters, so PostgreSQL parses and plans it once
    rather than on every request (about 1 ms of a list page's statement, issue 19). `sql`
    writes its parameters as $1, $2 …; `types` are their SQL types ("bigint[]").

    A prepared statement outlives a rolled-back transaction and goes with its session, which
    is why the names are kept per driver connection."""
    raw = cursor.cursor.connection if hasattr(cursor, "cursor") else cursor.connection
    done = _prepared.setdefault(raw, set())
    if name not in done:
        cursor.execute(f"PREPARE {name}({types}) AS {sql}")
        done.add(name)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params)
