"""Where yibao keeps what it can work out again but need not: rendered SQL plans
(backends/plan_cache.py) and the policy grammar's parser tables (dsl/parser.py).

``$YIBAO_CACHE_DIR``, else ``$XDG_CACHE_HOME/yibao``, else ``~/.cache/yibao``, one
folder a kind; ``YIBAO_CACHE_DIR=off`` keeps nothing.  Everything kept there is
checked against what it was made from before it is used, and a file that cannot be
read is made again: the cache makes a run faster, never different.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

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
