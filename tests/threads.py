"""Running calls at the same instant, each in its own thread and database connection, for
the tests that prove a rule holds under concurrency."""

import threading

from django.db import connection, transaction


def at_once(*calls, atomic=False, name_errors=None):
    """Release every call together; return their outcomes in finishing order: "ok", the
    name `name_errors` gives an expected exception type (e.g. {WipLimitExceeded: "wip"}),
    or the repr of any other exception (so an assertion shows it)."""
    barrier, outcomes, lock = threading.Barrier(len(calls)), [], threading.Lock()
    expected = tuple((name_errors or {}).items())

    def run(call):
        try:
            barrier.wait()
            if atomic:
                with transaction.atomic():
                    call()
            else:
                call()
            outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
            outcome = next((name for kind, name in expected if isinstance(exc, kind)), repr(exc))
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes
