"""A real PostgreSQL server for the tests, and a fresh database for each test.

The server is the one ``ORDERSTATUS_TEST_POSTGRES`` names (a DSN whose user may create
databases; ``.ci/run`` starts one with ``.ci/postgres.sh``), else a throwaway cluster this
module starts with the same script on first use and stops at exit, when PostgreSQL is
installed. Without either, the PostgreSQL tests skip, saying why; with
``ORDERSTATUS_POSTGRES_TESTS=required`` (CI) they fail instead.

Each test gets a database of its own, copied from a template that already holds the schema
(``empty=True``: copied from ``template0``, for the tests that create the schema).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
import unittest
import weakref
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import conninfo, sql

from orderstatus.stores import PostgresStore

__all__ = ["Server", "database", "dsn_of", "reopen", "server", "store"]

ENV = "ORDERSTATUS_TEST_POSTGRES"
REQUIRED = "ORDERSTATUS_POSTGRES_TESTS"
SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres.sh"


class Server:
    """A server the tests may create databases on."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._names = (f"orderstatus_test_{os.getpid()}_{n}" for n in itertools.count())
        self._created: list[str] = []
        self.template = f"orderstatus_template_{os.getpid()}"
        self._admin(f"DROP DATABASE IF EXISTS {self.template}")
        self._admin(f"CREATE DATABASE {self.template} TEMPLATE template0")
        PostgresStore(self.dsn_of(self.template)).close()  # the schema, once

    def dsn_of(self, name: str) -> str:
        """A URL for database ``name`` (what ``--store`` and ``open_store`` take)."""
        params = conninfo.conninfo_to_dict(self.dsn)
        user = quote(str(params.get("user") or ""), safe="")
        password = quote(str(params.get("password") or ""), safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
        return (f"postgresql://{credentials}{params.get('host') or ''}"
                f"{':' + str(params['port']) if params.get('port') else ''}/{name}")

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL(statement))  # type: ignore[arg-type]  # our own names only

    def database(self, *, empty: bool = False) -> str:
        """The DSN of a new database: with the schema, or ``empty``."""
        name = next(self._names)
        self._admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else self.template}"
                    " STRATEGY FILE_COPY")
        self._created.append(name)
        return self.dsn_of(name)

    def drop(self, dsn: str) -> None:
        name = conninfo.conninfo_to_dict(dsn)["dbname"]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        with contextlib.suppress(ValueError):
            self._created.remove(str(name))

    def close(self) -> None:
        for name in [*self._created, self.template]:
            with contextlib.suppress(psycopg.Error):
                self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_server: Server | None = None
_unavailable: str | None = None


def _start_cluster() -> str:
    """Start a throwaway cluster with ``.ci/postgres.sh``; return its DSN."""
    parent = Path(tempfile.mkdtemp(prefix="orderstatus-pg-"))
    parent.chmod(0o755)  # the server's own user must reach its folder inside
    folder = parent / "cluster"

    def stop() -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], check=False)
        shutil.rmtree(parent, ignore_errors=True)

    done = subprocess.run(
        ["bash", str(SCRIPT), "start", str(folder), "--lifeline", str(os.getpid())],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if done.returncode:
        stop()
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else "the cluster did not start")
    atexit.register(stop)
    return done.stdout.strip()


def server() -> Server:
    """The tests' server, started on first use; skips (or, when required, fails) the
    calling test if there is none."""
    global _server, _unavailable
    if _server is None and _unavailable is None:
        try:
            _server = Server(os.environ.get(ENV) or _start_cluster())
            atexit.register(_server.close)
        except (RuntimeError, OSError, psycopg.Error, subprocess.SubprocessError) as err:
            _unavailable = (f"no PostgreSQL server for the tests: {err} (set {ENV} to a DSN,"
                            " or install PostgreSQL so that .ci/postgres.sh can start one)")
    if _server is None:
        assert _unavailable is not None
        if os.environ.get(REQUIRED) == "required":
            raise RuntimeError(_unavailable)
        raise unittest.SkipTest(_unavailable)
    return _server


def database(*, empty: bool = False) -> str:
    """The DSN of a new database on the tests' server."""
    return server().database(empty=empty)


_dsns: weakref.WeakKeyDictionary[PostgresStore, str] = weakref.WeakKeyDictionary()


def store(dsn: str | None = None, **options: int) -> PostgresStore:
    """A store on ``dsn`` (default: a new database)."""
    dsn = dsn or database()
    opened = PostgresStore(dsn, **options)
    _dsns[opened] = dsn
    return opened


def dsn_of(opened: PostgresStore) -> str:
    """The DSN ``opened`` (made by :func:`store`) was opened with."""
    return _dsns[opened]


def reopen(opened: PostgresStore) -> PostgresStore:
    """Another store (another pool of connections) on ``opened``'s database."""
    return store(dsn_of(opened))
