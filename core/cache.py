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
