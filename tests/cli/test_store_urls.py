"""``--store URL`` and ``ORDERSTATUS_STORE``: SQLite paths and URLs, ``memory:``, PostgreSQL
(its password never shown), and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from orderstatus_fakeshop import FakeshopSandbox
from psycopg import conninfo

from orderstatus import SQLiteStore

from .conftest import Invoke, clean_env, run


@pytest.fixture
def database(postgres_database: str) -> str:
    return postgres_database


def test_fetch_track_watch_and_changes_share_a_postgresql_store(
    env: dict[str, str], sandbox: FakeshopSandbox, database: str
) -> None:
    password = str(conninfo.conninfo_to_dict(database)["password"])
    order = sandbox.create_order()
    tracked = run("fetch", "--track", "--store", database, f"fakeshop:{order}", env=env)
    assert tracked.returncode == 0, tracked.stderr
    sandbox.set_status(order, "sent")
    watched = run("watch", "--once", env={**env, "ORDERSTATUS_STORE": database})
    assert watched.returncode == 0, watched.stderr
    location = database.replace(f":{password}@", "@")
    assert f"watching 1 open tracked orders of fakeshop (store: {location})" in watched.stderr
    assert watched.stdout == (
        f"fakeshop order '{order}': created -> shipped (sent); skipped in_production\n")
    listed = run("changes", "--store", database, env=env)
    assert [line.split(" ", 1)[1] for line in listed.stdout.splitlines()] == [
        f"fakeshop order '{order}': first seen created (new)",
        f"fakeshop order '{order}': created -> shipped (sent); skipped in_production"]
    for done in (tracked, watched, listed):
        assert password not in done.stdout + done.stderr


def test_a_wrong_password_is_a_configuration_error_that_does_not_show_it(
    env: dict[str, str], database: str
) -> None:
    password = str(conninfo.conninfo_to_dict(database)["password"])
    wrong = database.replace(f":{password}@", ":not-the-password-at-all@")
    done = run("changes", "--store", wrong, env=env)
    assert done.returncode == 3
    assert done.stderr.startswith("orderstatus: error: cannot open the store postgresql://")
    assert "password authentication failed" in done.stderr
    assert "not-the-password-at-all" not in done.stdout + done.stderr


def test_sqlite_urls_paths_and_memory(invoke: Invoke, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for store in ("sqlite:///relative.sqlite3", f"sqlite:///{tmp_path}/absolute.sqlite3",
                  str(tmp_path / "plain.sqlite3"), "memory:"):
        done = invoke("changes", "--store", store)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3")) == [
        "absolute.sqlite3", "plain.sqlite3", "relative.sqlite3"]
    with SQLiteStore(tmp_path / "relative.sqlite3") as store:
        assert store.count() == 0


@pytest.mark.parametrize(("store", "message"), [
    ("redis://cache:6379/0", "unknown store url scheme 'redis': use sqlite:///PATH, "
     "postgresql://…, memory: or a file path"),
    ("host=db password=hunter22 dbname=orders", "a store url names a postgresql database as "
     "postgresql://user@host/dbname, not as key=value settings (for a file of that name, "
     "write sqlite:///NAME)"),
    ("sqlite://server/file.sqlite3", "a sqlite store url is sqlite:///relative/path or "
     "sqlite:////absolute/path"),
    ("memory:somewhere", "a memory store url is just memory:"),
])
def test_stores_that_cannot_be_named_are_refused(tmp_path: Path, store: str,
                                                  message: str) -> None:
    done = run("changes", "--store", store, env=clean_env(HOME=str(tmp_path)))
    assert (done.returncode, done.stderr) == (3, f"orderstatus: error: {message}\n")
    assert "hunter22" not in done.stderr
