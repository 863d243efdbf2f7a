"""A loaded policy chain kept on disk between runs: a run whose policy texts have not
changed skips parsing and checking them (issues 22 §9 and 28 §3, fixed costs).

Loading Benxi 2023 costs 0.1 s of parsing and checking and 0.05–0.1 s of importing
Lark and the checker: most of what is left of a daily ``yibao settle``'s start-up
once networkx is gone (compiler/graph.py).  What :func:`yibao.dsl.loader.load_policy`
returns depends only on the chain's texts, the folder's files (which predecessor
``extends`` finds, which notice ``source`` names) and yibao's own code, so it is
kept in ``policies`` of yibao's cache (core/cache.py), one file a chain, named by

* the path given and the SHA-256 of its text;
* the code that loads a policy (a digest of the ``core`` and ``dsl`` modules and
  the grammar), yibao's and Python's versions: another loader is another key.

A file found there is used only when every text of the chain, read again now,
has the SHA-256 it was loaded from, and walking ``extends`` from the path given
finds the same files again, as the loader would (a predecessor added to the
folder, or one replaced, is a miss).  The notices are read again on every run:
whether one can be read is a warning of this run (S250), not of the cached one.
A load that fails is never kept: its diagnostics come from the loader every time.

Files are written to a temporary name and renamed (``os.replace``: a reader sees a
whole file or none).  The file holds the SHA-256 of its pickle, checked before the
pickle is read, and the pickle is read by an unpickler that makes only yibao's own
classes and a few plain values (``Decimal``, dates): a file that is cut, altered or
foreign is a miss, the chain is loaded and the file written again.  The cache
makes a run faster, never different; ``YIBAO_CACHE_DIR=off`` keeps nothing.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pathlib
import pickle
import sys
from typing import TYPE_CHECKING

from yibao.core.cache import cache_directory, code_digest, key_of, write_atomically

if TYPE_CHECKING:
    from yibao.dsl.loader import LoadedPolicy

FORMAT = b"yibao-policy-cache/1\n"
LOADER_CODE = ("core", "dsl")     # the code a loaded chain is made by
# What a cached chain may make besides yibao's own classes (the model's values).
PLAIN_CLASSES = frozenset({("decimal", "Decimal"), ("datetime", "date"),
                           ("datetime", "datetime")})


def load_policy_cached(path: str | pathlib.Path) -> LoadedPolicy:
    """:func:`yibao.dsl.loader.load_policy` of ``path``, from the cache when its texts
    are those it was loaded from; else loaded now and kept."""
    from yibao.dsl.limits import read_bounded_text

    path = pathlib.Path(path)
    folder = cache_directory("policies")
    if folder is None:
        return _load(path)
    text = read_bounded_text(path)   # the loader's own read: its errors are the loader's
    entry = folder / f"{chain_key(path, text)}.pickle"
    found = _read(entry)
    if found is not None:
        loaded = _current(found, path, text)
        if loaded is not None:
            return loaded
    loaded, chain, checked = _load_with_chain(path)
    _write(entry, {"chain": chain, "loaded": loaded, "checked": checked})
    return loaded


def chain_key(path: pathlib.Path, text: str) -> str:
    return key_of((FORMAT.decode(), loader_version(), str(path), text))


@functools.cache
def loader_version() -> str:
    """yibao's and Python's versions and the digest of the loader's code.  (Not attrs'
    version: asking for it imports importlib.metadata, 0.05 s; a pickle another attrs
    cannot read is a miss like any other.)"""
    from yibao import __version__

    code = code_digest(LOADER_CODE, files=("dsl/policy.lark",))
    return f"yibao {__version__} code {code} python {sys.version_info[:3]}"


def _load(path: pathlib.Path) -> LoadedPolicy:
    from yibao.dsl.loader import load_policy

    return load_policy(path)


def _load_with_chain(path: pathlib.Path):
    """(loaded, its chain as the cache checks it, each version's checker warnings)."""
    from yibao.dsl.loader import load_chain

    return load_chain(path)


def _current(found: dict, path: pathlib.Path, text: str) -> LoadedPolicy | None:
    """The cached chain, if walking it again from ``path`` finds the same texts."""
    import attrs

    from yibao.core.diagnostics import PolicyError
    from yibao.dsl.limits import read_bounded_text
    from yibao.dsl.loader import predecessor
    from yibao.dsl.notices import find_notice

    try:
        chain, loaded, checked = found["chain"], found["loaded"], found["checked"]
        current: pathlib.Path | None = path
        warnings = []
        for index, (file, sha, header) in enumerate(chain):
            if current is None or str(current) != file:
                return None
            here = text if index == 0 else read_bounded_text(current)
            if hashlib.sha256(here.encode("utf-8")).hexdigest() != sha:
                return None
            notice = find_notice(file, here, header)
            warnings.append(notice.problem)
            current = predecessor(current, header) if header and header.extends else None
        if current is not None:
            return None     # the chain goes further now: a predecessor was added
        # The loader's order: oldest version first, each one's checks, then its notice's.
        rebuilt = []
        for checks, problem in zip(checked, reversed(warnings)):
            rebuilt.extend(checks)
            if problem is not None:
                rebuilt.append(problem)
        return attrs.evolve(loaded, warnings=tuple(rebuilt))
    except PolicyError:
        return None         # the loader, run now, says what is wrong
    except (KeyError, TypeError, ValueError, AttributeError):
        return None         # not an entry this code wrote


def _read(entry: pathlib.Path) -> dict | None:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    head, _, rest = data.partition(b"\n")
    digest, body = rest[:64], rest[64:]
    if head + b"\n" != FORMAT or hashlib.sha256(body).hexdigest().encode() != digest:
        return None         # cut short, altered, or another format: load it again
    try:
        found = _YibaoUnpickler(io.BytesIO(body)).load()
    except Exception:       # noqa: BLE001 - whatever a bad pickle raises is a miss
        return None
    return found if isinstance(found, dict) else None


class _YibaoUnpickler(pickle.Unpickler):
    """Makes yibao's own classes and PLAIN_CLASSES, nothing else: a cache file is
    never a way to run another module's code."""

    def find_class(self, module: str, name: str):
        if module == "yibao" or module.startswith("yibao.") or (module, name) in PLAIN_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a class a policy holds")


def _write(entry: pathlib.Path, found: dict) -> None:
    try:
        body = pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return   # (a loaded chain pickles) never a reason to fail a run
    write_atomically(entry, FORMAT + hashlib.sha256(body).hexdigest().encode() + body)
