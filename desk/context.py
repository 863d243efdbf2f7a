"""What every page reads: the book, the policies folder, compiled policies, the catalog.

The book is opened per request (a SQLite connection belongs to one thread; a
PostgreSQL URL works the same way), read-only unless the settlement API
writes.  Policies are reached only by *name*: the ``.policy`` files found in
the folder given to ``yibao serve --policies`` when the desk starts, so no
parameter can name a path of the host.  A booked claim is always explained
under the policy texts the book stored for it (``load_stored_policy``), never
under a file that may have changed since.
"""

from __future__ import annotations

import pathlib
import threading
from contextlib import contextmanager
from typing import Iterator

from yibao.audit.policies import PolicyRef, load_stored_policy, policy_key
from yibao.audit.store import AuditStore
from yibao.audit.stores import open_store
from yibao.runtime.batch import Engine
from yibao.desk.catalog import CHUNK, Catalog
from yibao.desk.status import VerifyWatch
from yibao.dsl.loader import load_policy


class UnknownPolicy(LookupError):
    """A policy name that is not one of the folder's files."""


class DeskContext:
    def __init__(self, book: str, policies: str | pathlib.Path, write_token: str | None = None,
                 verify_all: bool = False, index: str | None = None):
        self.book = book
        self.policies_dir = pathlib.Path(policies).resolve()
        # name (the path under the folder, without .policy) → file; fixed at start
        self.policy_files = {
            path.relative_to(self.policies_dir).with_suffix("").as_posix(): path
            for path in sorted(self.policies_dir.rglob("*.policy"))}
        self.write_token = write_token
        # A read-only desk shows a book that exists; with the settlement API on, a new
        # book is created (as yibao settle --book does).  AuditError otherwise.
        with open_store(book, create=self.writable):
            pass
        # in memory, or in the file --index names (kept between runs)
        self.catalog = Catalog(index or ":memory:")
        self.status = VerifyWatch(self.reading, verify_all)
        self._engines: dict[str, Engine] = {}
        self._files: dict[str, tuple[float, Engine]] = {}
        self._lock = threading.Lock()

    @property
    def writable(self) -> bool:
        return bool(self.write_token)

    @contextmanager
    def reading(self) -> Iterator[AuditStore]:
        store = open_store(self.book)
        try:
            yield store
        finally:
            store.close()

    def refresh(self, store: AuditStore) -> None:
        """The index brought up to the head, unless its build runs (it gets there itself)."""
        if not self.catalog.building:
            self.catalog.update(store)

    def warm_up(self) -> None:
        """At start-up: the index built, or brought up to the head (in the background)."""
        with self.reading() as store:
            # Searches wait for a short catch-up, not for a build (they say how far it got).
            self.catalog.building = store.last_seq() - self.catalog.seq > CHUNK
            try:
                self.catalog.update(store)
            finally:
                self.catalog.building = False

    # ---- policies ---------------------------------------------------------------------
    def stored_engine(self, store: AuditStore, refs: list[dict]) -> Engine:
        """The engine of the policy texts a book entry names (its ``policies``)."""
        chain = [PolicyRef.from_json(ref) for ref in refs]
        key = policy_key(chain)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = Engine(load_stored_policy(chain, store.source))
            return self._engines[key]

    def policy_path(self, name: str) -> pathlib.Path:
        try:
            return self.policy_files[name]
        except KeyError:
            raise UnknownPolicy(name) from None

    def file_engine(self, name: str) -> Engine:
        """The engine of a policy file of the folder, by name (for settling)."""
        path = self.policy_path(name)
        mtime = path.stat().st_mtime   # a file edited since is loaded again
        with self._lock:
            cached = self._files.get(name)
            if cached is None or cached[0] != mtime:
                cached = self._files[name] = (mtime, Engine(load_policy(path)))
            return cached[1]

    def policy_name_of(self, policy_id: str) -> str | None:
        """The folder's file named after a policy id (``benxi-2023.policy``), if there is one."""
        for name, path in self.policy_files.items():
            if path.stem == policy_id:
                return name
        return None
