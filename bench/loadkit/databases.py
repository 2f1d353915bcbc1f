"""A fresh database for one benchmark run: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the PostgreSQL server ``url`` names
    (dropped afterwards)."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    server = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"tf_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
