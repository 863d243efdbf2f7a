"""The syrupy extension of ``yibao_case``: one UTF-8 text file per snapshot."""

from __future__ import annotations

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode


class PolicySnapshotExtension(SingleFileSnapshotExtension):
    """``__snapshots__/<test file>/<test name>.txt``: plain text, diffable line by line."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"
