"""Libraries the ``yibao`` command never uses, kept out of its process.

pyarrow and DuckDB import pandas, when it is installed, the first time they are
handed a Python object or run a query, only to learn whether that object is a
DataFrame.  A yibao run never hands them one, and importing pandas costs 0.3 to
0.5 s of every run (issue 28: a fifth of a 10^5-claim run's wall time).  So the
command's own process, and only it (cli/main.py's ``entry``; a program calling
:func:`yibao.cli.main.main` keeps its imports), answers that pandas is not
there, and both libraries carry on without it, as they do where it is not
installed.  Spark is the exception: pyspark converts to and from Arrow through
pandas, so a ``--backend spark`` run keeps it.
"""

from __future__ import annotations

import sys

# Imported by pyarrow or DuckDB as a probe, never used by a run of these backends.
PROBED = ("pandas",)


class _NotInstalled:
    """A meta path finder that says PROBED are not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in PROBED:
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of the yibao "
                                      "command: cli/lean.py)", name=name)
        return None


def keep_out_probed(args) -> None:
    """Keep PROBED out of this process, unless the run needs them (Spark) or they are
    already imported."""
    if getattr(args, "backend", None) == "spark":
        return
    if any(name in sys.modules for name in PROBED):
        return
    if not any(isinstance(finder, _NotInstalled) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NotInstalled())
