"""Making an SQLite database file private never drops this process's locks on it."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from tracker.db import make_sqlite_file_private

OPEN_AND_CLOSE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
print(connection.execute("SELECT count(*) FROM t").fetchone()[0])
connection.close()
"""


def test_a_missing_file_is_created_private(tmp_path):
    path = tmp_path / "new.sqlite3"
    make_sqlite_file_private(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_open_database_keeps_its_locks(tmp_path):
    """Closing any descriptor of a file drops every POSIX lock the process holds on it. Had
    making the file private opened and closed it while a connection of this process held it
    (a second app object of the same process), another process closing its own connection
    would believe itself the last one and remove the write-ahead log under this one."""
    path = tmp_path / "open.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("PRAGMA wal_autocheckpoint=0")
        holder.execute("CREATE TABLE t (x)")
        holder.execute("INSERT INTO t VALUES (1)")
        holder.execute("BEGIN")
        assert holder.execute("SELECT count(*) FROM t").fetchone()[0] == 1  # a read lock
        make_sqlite_file_private(f"sqlite:///{path}")
        other = subprocess.run(
            [sys.executable, "-c", OPEN_AND_CLOSE, str(path)], capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert other.stdout.strip() == "1", other.stdout + other.stderr
        assert Path(f"{path}-wal").exists()  # not removed under the holder
        assert holder.execute("SELECT count(*) FROM t").fetchone()[0] == 1
        holder.execute("COMMIT")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        holder.close()
