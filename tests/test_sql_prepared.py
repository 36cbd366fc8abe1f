"""tracker.sql.execute_prepared: a hot read prepared once per PostgreSQL session."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tracker.sql import execute_prepared

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT n * 2 FROM unnest($1) AS n ORDER BY n"


def _run(values):
    with connection.cursor() as cursor:
        execute_prepared(cursor, "tandem_test_double", SQL, [values], "bigint[]")
        return [row[0] for row in cursor.fetchall()]


def test_prepared_once_per_session_then_executed_with_its_parameters():
    connection.close()
    with CaptureQueriesContext(connection) as first:
        assert _run([3, 1, 2]) == [2, 4, 6]
    with CaptureQueriesContext(connection) as again:
        assert _run([5]) == [10]
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["EXECUTE"]


def test_a_new_connection_prepares_again_and_a_rollback_keeps_it():
    connection.close()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _run([1]) == [2]  # prepared inside a transaction that is rolled back
        raise RuntimeError
    with CaptureQueriesContext(connection) as after_rollback:
        assert _run([4]) == [8]
    assert [q["sql"].split()[0] for q in after_rollback.captured_queries] == ["EXECUTE"]
    connection.close()  # a reconnect (CONN_MAX_AGE, a failover) starts a new session
    with CaptureQueriesContext(connection) as reconnected:
        assert _run([4]) == [8]
    assert [q["sql"].split()[0] for q in reconnected.captured_queries] == ["PREPARE", "EXECUTE"]
