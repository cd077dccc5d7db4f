"""PostgresStore against the store conformance suite, across pools of connections."""

from __future__ import annotations

from orderstatus.testing.stores import store_suite
from tests import postgres

TestPostgresStore = store_suite(lambda _: postgres.store(), reopen=postgres.reopen,
                                name="postgres")
