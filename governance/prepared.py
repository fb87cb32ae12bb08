"""Statements prepared once per database connection (PostgreSQL's PREPARE and EXECUTE).

A statement sent by every request with the same text and only its parameters changing is planned
by PostgreSQL each time it arrives. The session's statement (`governance.sessions`: the session
row, its user, their posts and the bell's count) takes ~0.4 ms to plan and ~0.1 ms to run; a
request sends it first, when the server has been idle, where the plan costs it most (measured on
the session's statement, 400 sends, 4 ms apart: 0.96 ms plain against 0.42 ms prepared at the
median, 1.39 against 0.58 ms at p95). `execute_prepared` sends `PREPARE` the first time a
connection sees a statement and `EXECUTE name(…)` from then on; PostgreSQL keeps the plan with
the connection.

Django's psycopg connection binds parameters on the client and never prepares (its
`prepare_threshold` is None), so the statement is prepared here, in SQL, and the parameters are
bound into the `EXECUTE` as into any statement. What a connection has prepared is remembered on
Django's connection object together with the driver connection it was prepared on: a new
connection (after `CONN_MAX_AGE`, a failed health check, a restart) prepares again.

`DB_PREPARED_STATEMENTS=0` sends the plain statement instead, for a connection pooler in
transaction mode (PgBouncer's `pool_mode = transaction`), which hands each transaction any server
connection: a statement prepared on one is unknown on the next. Should a prepared statement be
gone anyway (a `DISCARD ALL`), it is prepared again and sent once more, outside a transaction; in
one, the error stands (the transaction is already aborted).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import ProgrammingError, connections

# SQLSTATE 26000: the prepared statement named by EXECUTE does not exist on this connection.
INVALID_STATEMENT_NAME = "26000"


def prepared_name(prefix: str, sql: str) -> str:
    """The statement's name: `prefix` and a digest of its text (a changed text is another statement)."""
    return f"{prefix}_{hashlib.blake2b(sql.encode(), digest_size=6).hexdigest()}"


def numbered(sql: str) -> str:
    """`sql` with its `%s` placeholders as PostgreSQL's `$1`, `$2`, …; refuses any other `%`."""
    pieces = sql.split("%s")
    if any("%" in piece for piece in pieces):
        raise ValueError("A prepared statement's text holds no % but its %s placeholders.")
    text = pieces[0]
    for position, piece in enumerate(pieces[1:], start=1):
        text += f"${position}{piece}"
    return text


def execute_prepared(
    cursor: Any, alias: str, prefix: str, sql: str, params: Sequence[Any], types: Sequence[str]
) -> None:
    """Run `sql` with `params` on `cursor` (Django's, of the connection `alias`) as a statement
    prepared once per connection; `types` are its parameters' PostgreSQL types, in order. Off
    PostgreSQL, or with DB_PREPARED_STATEMENTS off, the plain statement is sent."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    if len(types) != len(params) or sql.count("%s") != len(params):
        raise ValueError("A prepared statement needs one type per parameter and one %s per parameter.")
    name = prepared_name(prefix, sql)
    execute = f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
    known = _prepared_on(connection)
    if name not in known:
        cursor.execute(_prepare_text(name, sql, types))
        known.add(name)
    try:
        cursor.execute(execute, params)
    except ProgrammingError as error:
        if getattr(error.__cause__, "sqlstate", None) != INVALID_STATEMENT_NAME:
            raise  # the statement failed; it is still prepared
        known.clear()  # the connection lost what it had prepared: all of it, not just this one
        if connection.in_atomic_block:
            raise  # the transaction is aborted; the next use prepares again
        cursor.execute(_prepare_text(name, sql, types))
        known.add(name)
        cursor.execute(execute, params)


def _prepare_text(name: str, sql: str, types: Sequence[str]) -> str:
    arguments = f"({', '.join(types)})" if types else ""
    return f"PREPARE {name}{arguments} AS {numbered(sql)}"


def _prepared_on(connection: Any) -> set[str]:
    """The names prepared on `connection`'s current driver connection (a new one starts empty)."""
    raw = connection.connection
    kept = getattr(connection, "_governance_prepared", None)
    if kept is None or kept[0] is not raw:
        kept = (raw, set())
        connection._governance_prepared = kept
    return kept[1]


def prepared_clear(alias: str) -> None:
    """Deallocate every statement prepared on `alias`'s connection and forget them (tests)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    _prepared_on(connection).clear()


def statement_of(alias: str, sql: str) -> str:
    """What a captured statement runs: for `EXECUTE name(…)`, the statement `name` was prepared as
    on this connection (from PostgreSQL's pg_prepared_statements, which keeps the whole PREPARE);
    any other statement as it is."""
    if not sql.startswith("EXECUTE "):
        return sql
    name = sql.removeprefix("EXECUTE ").split("(", 1)[0].strip()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0].split(" AS ", 1)[1] if row else sql
