"""Create (or re-create) the benchmark database on the cluster Django is configured for,
and point Django's default connection at it before anything connects."""

import psycopg2
from django.db import connection, connections
from psycopg2 import sql


def _admin_connect(settings_dict):
    conn = psycopg2.connect(
        dbname="postgres",
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


def use_database(name: str, *, recreate: bool) -> bool:
    """Point the default connection at `name`, creating it when missing (or dropping it
    first when `recreate`). Returns True when the database was (re)created empty."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    connections.close_all()
    settings_dict = connection.settings_dict
    admin = _admin_connect(settings_dict)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cur.fetchone() is not None
            if exists and recreate:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
                )
                cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
                exists = False
            if not exists:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()
    settings_dict["NAME"] = name
    return not exists or recreate


def database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
