"""A private PostgreSQL server for the tests: Debian's ``postgresql``, on a socket in a temp dir.

Started once per test session (tests/audit/conftest.py), with trust
authentication and no TCP port, so it needs no password and disturbs no
other server.  PostgreSQL refuses to run as root: as root the server runs as
the ``postgres`` user the Debian package creates.  Debian's package is
installed by scripts/ensure-system-packages.sh (make setup, .ci/run).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile


def _program(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run "
                           "scripts/ensure-system-packages.sh (Debian's postgresql)")
    return found


class Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="yibao-pg-")
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.folder, "data")
        self._run(_program("initdb"), "-D", self.data, "-A", "trust", "-U", "yibao",
                  "-E", "UTF8", "--locale", "C", "--no-sync")
        self._run(_program("pg_ctl"), "-D", self.data, "-l", os.path.join(self.folder, "log"),
                  "-w", "-o", f"-k {self.folder} -c listen_addresses='' -c max_connections=50",
                  "start")
        self.url = self.database_url("postgres")

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    def database_url(self, name: str) -> str:
        return f"postgresql://yibao@/{name}?host={self.folder}"

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}"')
            db.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self) -> None:
        try:
            self._run(_program("pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
