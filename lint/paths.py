"""The policy files a command works on: files as given, folders searched for ``*.policy``."""

from __future__ import annotations

import pathlib
from typing import Iterable

POLICY_SUFFIX = ".policy"


def policy_files(paths: Iterable[str | pathlib.Path]) -> list[pathlib.Path]:
    """Each file as given; each folder's ``*.policy`` files, recursively, sorted.

    Raises FileNotFoundError for a path that does not exist.
    """
    files: list[pathlib.Path] = []
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob(f"*{POLICY_SUFFIX}") if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(2, "no such file or folder", str(path))
    return list(dict.fromkeys(files))
