"""The session's statement prepared once per connection (governance/prepared.py)."""

from __future__ import annotations

import pytest
from django.db import DataError, ProgrammingError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from governance.prepared import execute_prepared, numbered, prepared_clear, prepared_name, statement_of
from governance.sessions import _session_statement

pytestmark = pytest.mark.postgres  # PREPARE and EXECUTE are PostgreSQL's

SQL = "SELECT %s::int + 1, %s::text"


@pytest.fixture(autouse=True)
def _nothing_left_unknown(django_db_blocker):
    """Each test below takes statements away behind the connection's back: after it, the connection
    and what is remembered of it agree again (the next test's requests run inside a transaction,
    where a lost statement is not prepared again)."""
    yield
    with django_db_blocker.unblock():  # after the test's own database fixture is gone
        prepared_clear(connection.alias)


def executed(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.startswith(("PREPARE ", "EXECUTE "))]


def run(params: list) -> tuple:
    with connection.cursor() as cursor:
        execute_prepared(cursor, connection.alias, "test_prepared", SQL, params, ("int", "text"))
        return cursor.fetchone()


def forget_all() -> None:
    """What a pooler's DISCARD ALL does to the server connection: every prepared statement gone,
    unknown to what this process remembers."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


def test_placeholders_are_numbered_and_a_stray_percent_is_refused():
    assert numbered("SELECT %s, %s FROM t WHERE a = %s") == "SELECT $1, $2 FROM t WHERE a = $3"
    with pytest.raises(ValueError):
        numbered("SELECT %s WHERE name LIKE 'a%'")
    assert prepared_name("p", "SELECT 1") != prepared_name("p", "SELECT 2")


def test_prepared_once_per_connection_then_only_executed(db):
    forget_all()
    with CaptureQueriesContext(connection) as captured:
        assert run([41, "a"]) == (42, "a")
        assert run([1, "b"]) == (2, "b")
    sent = executed([q["sql"] for q in captured.captured_queries])
    assert [sql.split()[0] for sql in sent] == ["PREPARE", "EXECUTE", "EXECUTE"], sent
    assert statement_of(connection.alias, sent[1]) == sent[0].split(" AS ", 1)[1] == "SELECT $1::int + 1, $2::text"


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    run([1, "x"])
    connection.close()  # the next cursor opens another server connection, which knows nothing
    with CaptureQueriesContext(connection) as captured:
        assert run([2, "y"]) == (3, "y")
    assert [sql.split()[0] for sql in executed([q["sql"] for q in captured.captured_queries])] == ["PREPARE", "EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_a_statement_gone_from_the_connection_is_prepared_again_outside_a_transaction():
    run([1, "x"])
    forget_all()
    assert run([5, "z"]) == (6, "z")


def test_a_statement_gone_inside_a_transaction_is_an_error_and_not_retried(db):
    run([1, "x"])
    forget_all()
    with pytest.raises(ProgrammingError), transaction.atomic():
        run([5, "z"])
    assert run([7, "w"]) == (8, "w")  # and the next use prepares it again


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_fails_for_its_values_stays_prepared():
    run([1, "x"])
    with pytest.raises(DataError):
        run(["not a number", "y"])
    with CaptureQueriesContext(connection) as captured:
        assert run([2, "z"]) == (3, "z")
    assert [sql.split()[0] for sql in executed([q["sql"] for q in captured.captured_queries])] == ["EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_a_statement_refused_by_the_server_stays_prepared_and_known():
    sql = "SELECT count(*) + %s::int FROM prepared_probe"

    def count_plus(n: int) -> int:
        with connection.cursor() as cursor:
            execute_prepared(cursor, connection.alias, "test_probe", sql, [n], ("int",))
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE prepared_probe (n int)")
    assert count_plus(1) == 1
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE prepared_probe")
    with pytest.raises(ProgrammingError):  # its table is gone: refused, but still prepared on the server
        count_plus(1)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE prepared_probe (n int)")
        cursor.execute("INSERT INTO prepared_probe VALUES (1), (2)")
    assert count_plus(1) == 3  # executed again, not prepared twice


def test_switched_off_the_plain_statement_is_sent(db, settings):
    settings.DB_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as captured:
        assert run([1, "p"]) == (2, "p")
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 1::int + 1, 'p'::text"]


@pytest.mark.django_db(transaction=True)  # requests outside a transaction, as served
def test_the_session_is_read_through_its_prepared_statement(grid_worker_a):
    client = Client()
    client.force_login(grid_worker_a)
    forget_all()
    assert client.get("/accounts/").status_code == 200  # after DEALLOCATE ALL: prepared again
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/accounts/")
    assert response.status_code == 200 and response.wsgi_request.user.pk == grid_worker_a.pk
    first = captured.captured_queries[0]["sql"]
    assert first.startswith("EXECUTE governance_session_"), first
    *_, sql = _session_statement(connection.alias)
    assert statement_of(connection.alias, first) == numbered(sql)
