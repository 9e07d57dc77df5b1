"""A real, throw-away PostgreSQL server for tests: Debian's binaries, run as the `postgres` OS user.

PostgreSQL refuses to run as root, and the tests do run as root here, so every server command goes through
`runuser -u postgres --` when we are root. The cluster lives in a temporary directory owned by postgres,
listens only on 127.0.0.1 on a free port, trusts loopback connections, and is stopped (immediate mode, then
killed if need be) and removed at teardown, also when a test or the start-up itself fails.

Import the `postgres_server` fixture into a conftest (`from tests.pg import postgres_server  # noqa: F401`);
`PostgresServer.create_database()` gives each test module its own database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 60.0
OS_USER = "postgres"


@dataclass
class PostgresServer:
    """Connection facts for a running server, plus small helpers to run SQL as the superuser."""

    host: str
    port: int
    user: str
    dbname: str
    bin_dir: Path
    data_dir: Path

    def url(self, dbname: str | None = None, driver: str = "postgresql") -> str:
        """`postgresql://user@127.0.0.1:PORT/db` (trust auth: no password); `driver` e.g. `postgresql+psycopg`."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{dbname or self.dbname}"

    def dsn(self, dbname: str | None = None) -> str:
        """A libpq key/value DSN, for psycopg.connect()."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname or self.dbname}"

    def execute(
        self, sql: str, params: Sequence[object] | None = None, *, dbname: str | None = None
    ) -> list[tuple]:
        """Run one statement in autocommit mode; returns its rows (empty for statements without a result)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []

    def create_database(self, name: str) -> str:
        """A fresh database (dropped first if it exists), so tests sharing the server do not see each other."""
        from psycopg import sql as pgsql

        self.execute(
            pgsql.SQL("drop database if exists {} with (force)").format(pgsql.Identifier(name)).as_string()
        )
        self.execute(pgsql.SQL("create database {}").format(pgsql.Identifier(name)).as_string())
        return name


def find_bin_dir() -> Path | None:
    """The newest installed /usr/lib/postgresql/<ver>/bin that has initdb, pg_ctl and pg_isready."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    for c in candidates:
        if all(os.access(Path(c) / b, os.X_OK) for b in ("initdb", "pg_ctl", "pg_isready")):
            return Path(c)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Wrap a command so it runs as the postgres OS user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", OS_USER, "--", *cmd]
    return ["su", OS_USER, "-s", "/bin/sh", "-c", " ".join(_quote(c) for c in cmd)]


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=timeout, check=False)


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    import pwd

    pw = pwd.getpwnam(OS_USER)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@contextlib.contextmanager
def running_postgres(timeout: float = START_TIMEOUT_SECONDS) -> Iterator[PostgresServer]:
    """Start a private cluster, yield it, always stop it and remove its files.

    Raises RuntimeError (with the server log's tail) if it does not come up within `timeout` seconds.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam(OS_USER)
        except KeyError as exc:
            raise FileNotFoundError(
                f"running as root but there is no {OS_USER!r} OS user to run the server"
            ) from exc
    base = Path(tempfile.mkdtemp(prefix="crmgov-pg-"))
    os.chmod(base, 0o700)
    data, sock, log = base / "data", base / "sock", base / "server.log"
    sock.mkdir()
    _chown_tree(base)
    server: PostgresServer | None = None
    started = False
    try:
        init = _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                OS_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=timeout,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 "
            "-c shared_buffers=32MB"
        )
        start = _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            timeout=timeout + 10,
        )
        started = True
        if start.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed ({start.returncode}):\n{start.stderr}\n{_log_tail(log)}")
        server = PostgresServer("127.0.0.1", port, OS_USER, "postgres", bin_dir, data)
        _wait_ready(server, timeout, log)
        yield server
    finally:
        if started:
            _stop(bin_dir, data)
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: PostgresServer, timeout: float, log: Path) -> None:
    """pg_isready over TCP, then a real query: bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        probe = subprocess.run(
            [
                str(server.bin_dir / "pg_isready"),
                "-h",
                server.host,
                "-p",
                str(server.port),
                "-U",
                server.user,
                "-d",
                server.dbname,
                "-t",
                "2",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            try:
                server.execute("select 1")
                return
            except Exception as exc:  # noqa: BLE001 - any failure here just means "not yet"
                last = str(exc)
        else:
            last = probe.stdout.strip() or probe.stderr.strip()
        time.sleep(0.2)
    raise RuntimeError(
        f"PostgreSQL on port {server.port} not ready after {timeout:.0f} s ({last}):\n{_log_tail(log)}"
    )


def _stop(bin_dir: Path, data: Path) -> None:
    """Immediate shutdown; if pg_ctl cannot stop it, kill the postmaster from its pid file."""
    try:
        stop = _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "20", "stop"], 30
        )
        if stop.returncode == 0:
            return
    except subprocess.TimeoutExpired:
        pass
    pid_file = data / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 9)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (about 2-4 s to start); skipped only without the binaries."""
    try:
        with running_postgres() as server:
            yield server
    except FileNotFoundError as exc:
        pytest.skip(f"{exc}: install Debian's `postgresql` package (scripts/system_deps.sh does it)")
