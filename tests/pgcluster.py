"""A throw-away PostgreSQL cluster of a test's own: ``initdb`` and ``pg_ctl`` on a spare port.

The server programs are found beside ``initdb`` on the ``PATH``, else in ``pg_config
--bindir``. PostgreSQL refuses to run as root: when the tests run as root, the cluster runs
as an unprivileged account (``postgres``, else ``nobody``) through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterUnavailable(RuntimeError):
    """Why no cluster can be started here (the caller skips with this reason)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / "initdb").is_file():
            return Path(bindir)
    raise ClusterUnavailable("PostgreSQL server programs (initdb, pg_ctl) are not installed")


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root, and the account it runs as (None: ourselves)."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterUnavailable("running as root and runuser is not installed")
    for name in ("postgres", "nobody"):
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        return [runuser, "-u", name, "--"], account
    raise ClusterUnavailable("running as root with no unprivileged account to run PostgreSQL")


class TempCluster:
    """A cluster in a temporary directory, trust authentication, user ``postgres``."""

    def __init__(self) -> None:
        self.bindir = server_bindir()
        self.prefix, account = _run_as()
        # Not under pytest's tmp dir: that is private to the test's user (mode 700).
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        if account is not None:
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [*self.prefix, str(self.bindir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stderr}{result.stdout}\n{log}")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"

    def init(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                 "-w", "-t", "30", "start")  # fmt: skip

    def restart(self) -> None:
        """A fast shutdown (every session cut off) and a start; returns once it accepts."""
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                 "-m", "fast", "-w", "-t", "30", "restart")  # fmt: skip

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
