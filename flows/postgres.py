"""The PostgreSQL behind the production profile's Prefect server.

``qbtc up --prod`` runs its own cluster under ``<data_dir>/postgres`` (Debian's
``postgresql`` package, installed with apt-get when missing and running as root): ``initdb``
once (password authentication, user ``prefect``, password kept in ``postgres/password``),
``pg_ctl start`` on 127.0.0.1 only (no Unix socket), database ``prefect``, ``pg_ctl stop`` at
the end. PostgreSQL refuses to run as root, so as root the server commands run as the
``postgres`` user. ``QBTC_PREFECT_DATABASE_URL`` points at an existing server instead.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DATABASE = "prefect"
ROLE = "prefect"
OWNER = "postgres"
INSTALL_HINT = (
    "install it (`sudo apt-get install postgresql`) or point QBTC_PREFECT_DATABASE_URL at an "
    "existing server"
)


class PostgresError(RuntimeError):
    """PostgreSQL could not be installed, initialised, started or reached; says what to do."""


def asyncpg_url(url: str) -> str:
    """``postgresql://...`` (or ``postgres://``) as the SQLAlchemy asyncpg URL Prefect wants."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise PostgresError(
        "QBTC_PREFECT_DATABASE_URL must be a PostgreSQL URL, e.g. "
        "postgresql://prefect:PASSWORD@db-host:5432/prefect"
    )


def find_bin_dir() -> Path | None:
    """Directory of ``pg_ctl`` and ``initdb``: on PATH, else Debian's newest version dir."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def install_postgres() -> Path:
    """Debian's ``postgresql`` through apt-get (as root); the binaries' directory."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresError(f"PostgreSQL is not installed: {INSTALL_HINT}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("installing PostgreSQL (apt-get install postgresql) ...", flush=True)
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "postgresql"]):
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-300:]
            raise PostgresError(f"`{' '.join(args)}` failed: {tail}; {INSTALL_HINT}")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PostgresError(
            f"apt-get installed postgresql but pg_ctl was not found; {INSTALL_HINT}"
        )
    return bin_dir


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster of qbtc's own under ``root`` (``<data_dir>/postgres``)."""

    root: Path
    port: int
    bin_dir: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "cluster"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    def url(self) -> str:
        """The asyncpg URL of the ``prefect`` database (holds the password: never print it)."""
        password = self.password_file.read_text().strip()
        return f"postgresql+asyncpg://{ROLE}:{password}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, args: list[str], *, as_owner: bool, what: str) -> str:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if as_owner and os.geteuid() == 0:
            command = ["runuser", "-u", OWNER, "--", *command]
        env = {**os.environ, "PGPASSWORD": self._password(), "LC_ALL": "C"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-400:]
            raise PostgresError(f"{what} failed: {tail} (log: {self.log})")
        return done.stdout

    def _password(self) -> str:
        return self.password_file.read_text().strip() if self.password_file.exists() else ""

    def running(self) -> bool:
        """Whether this cluster's postmaster is up."""
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        try:
            self._run(["pg_ctl", "status", "-D", str(self.pgdata)], as_owner=True, what="status")
        except PostgresError:
            return False
        return True

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def prepare(self) -> None:
        """Create ``root`` for the cluster's owner and check it can reach it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            self.root.chmod(0o700)
            return
        shutil.chown(self.root, OWNER, OWNER)
        self.root.chmod(0o700)
        reach = subprocess.run(
            ["runuser", "-u", OWNER, "--", "test", "-w", str(self.root)], check=False
        )
        if reach.returncode != 0:
            raise PostgresError(
                f"the {OWNER} user cannot write {self.root} (a parent directory is not "
                "searchable by other users): put QBTC_DATA_DIR where other users can traverse, "
                "or set QBTC_PREFECT_DATABASE_URL"
            )

    def initialise(self) -> None:
        """``initdb`` with password authentication for the ``prefect`` role (first start)."""
        self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.root / ".initdb-password"
        pwfile.write_text(self._password() + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, OWNER, OWNER)
        try:
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    ROLE,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                as_owner=True,
                what="initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the cluster on 127.0.0.1:``port`` (TCP only) and wait until it accepts."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        start = ["pg_ctl", "start", "-D", str(self.pgdata), "-l", str(self.log)]
        self._run(
            [*start, "-w", "-t", "60", "-o", options],
            as_owner=True,
            what="pg_ctl start",
        )

    def create_database(self) -> None:
        """The ``prefect`` database, when it does not exist yet."""
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
        found = self._run(
            ["psql", *self._connection("postgres"), "-tAc", query], as_owner=False, what="psql"
        )
        if found.strip() != "1":
            self._run(
                ["createdb", *self._connection(None), DATABASE], as_owner=False, what="createdb"
            )

    def _connection(self, database: str | None) -> list[str]:
        args = ["-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE]
        return [*args, "-d", database] if database else args

    def stop(self) -> None:
        """Fast shutdown (running transactions roll back, nothing committed is lost)."""
        if self.running():
            self._run(
                ["pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60"],
                as_owner=True,
                what="pg_ctl stop",
            )


def start_cluster(root: Path, port: int) -> Cluster:
    """Install when missing, initialise on first use, start; the running cluster."""
    bin_dir = find_bin_dir() or install_postgres()
    cluster = Cluster(root, port, bin_dir)
    cluster.prepare()
    if not cluster.initialised():
        print(f"initialising PostgreSQL cluster in {cluster.pgdata} ...", flush=True)
        cluster.initialise()
    if not cluster.running():
        cluster.start()
    cluster.create_database()
    return cluster
