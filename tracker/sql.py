"""Helpers for the few set-based statements written in SQL."""

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
