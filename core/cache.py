"""Where yibao keeps what it can work out again but need not: rendered SQL plans
(backends/plan_cache.py) and the policy grammar's parser tables (dsl/parser.py).

``$YIBAO_CACHE_DIR``, else ``$XDG_CACHE_HOME/yibao``, else ``~/.cache/yibao``, one
folder a kind; ``YIBAO_CACHE_DIR=off`` keeps nothing.  Everything kept there is
checked against what it was made from before it is used, and a file that cannot be
read is made again: the cache makes a run faster, never different.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
from typing import Iterable

CACHE_VARIABLE = "YIBAO_CACHE_DIR"
OFF = "off"


def cache_directory(kind: str) -> pathlib.Path | None:
    """The folder for ``kind`` (not created here), or None when caching is off."""
    given = os.environ.get(CACHE_VARIABLE)
    if given == OFF:
        return None
    if given:
        return pathlib.Path(given) / kind
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "yibao" / kind


def write_atomically(path: pathlib.Path, data: bytes) -> None:
    """``data`` as ``path``, whole or not at all: written to a temporary name in the
    same folder and renamed (``os.replace``, atomic on one file system), so a run
    reading the cache meanwhile sees the old file, the new one or none.  A cache that
    cannot be written costs the next run its work, no more: OSError is swallowed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-",
                                                 suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass


def key_of(parts: Iterable[str]) -> str:
    """The SHA-256 of ``parts``, each prefixed with its length, so that no two ways of
    cutting the same text into parts give one key: a cache entry's name."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def code_digest(packages: Iterable[str], files: Iterable[str] = ()) -> str:
    """The SHA-256 of the yibao code a cached thing is made by: every module of
    ``packages`` (with its path) and the ``files`` named (the grammar).  Another
    checkout's code is another digest, so an entry it made is a miss here."""
    root = pathlib.Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in packages:
        for source in sorted((root / package).rglob("*.py")):
            digest.update(str(source.relative_to(root)).encode("utf-8") + b"\0")
            digest.update(source.read_bytes())
    for name in files:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()
