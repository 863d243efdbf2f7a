"""A Parquet claims file read as the columnar engine reads it, on a thread of its own
when the caller has other work to do meanwhile.

``yibao eval CLAIMS.parquet`` spends ≈ 0.3 s importing NumPy, pyarrow's compute
functions and yibao's own modules, loading the policy and building the runner, and
≈ 0.3 s reading the file (10^6 claims), one after the other.  Reading is pyarrow's
work, which lets go of the interpreter, so :class:`ParquetRead` starts it on another
thread as soon as the command knows what it will read, and the command imports and
loads while the file is read (cli/batch_io.py).  This module imports pyarrow, NumPy
and the money columns' decoder (backends/parquet_decimals.py) alone, so
that the read can start before the rest is imported.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from typing import Iterator

# Text columns whose few distinct values repeat on every row: read as dictionaries, each
# value is decoded and checked once (columnar/admit.py asks a dictionary's values, not
# its rows).
REPEATED_TEXT = ("scheme", "visit", "identities")


class ReadCancelled(Exception):
    """The read was given up (:meth:`ParquetRead.cancel`) before its last row group."""


# What Arrow's file system reports without the file's name: the command's messages
# name it (cli/main.py: "yibao: PATH: no such file", exit 2, not an internal error).
NAMED_ERRORS = (errno.ENOENT, errno.EACCES, errno.EISDIR, errno.ENOTDIR)


@contextlib.contextmanager
def naming(path: str) -> Iterator[None]:
    """Arrow's OSError for a file it cannot open (no such file, a directory, no
    permission) raised again as Python's own for ``path``: FileNotFoundError and the
    others with their ``filename``, which Arrow leaves out."""
    try:
        yield
    except OSError as error:
        if error.filename is not None or error.errno not in NAMED_ERRORS:
            raise
        raise OSError(error.errno, os.strerror(error.errno), str(path)) from error


def parquet_rows(path: str) -> int:
    """The rows of a Parquet file, from its footer; 0 when it cannot be read (the read
    itself then reports why)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except (OSError, ValueError):
        return 0


def read_parquet(path: str, cancelled: threading.Event | None = None):
    """A Parquet claims file as an Arrow table, one chunk a row group, REPEATED_TEXT's
    string columns (and the identities' strings) dictionary-encoded as Parquet already
    stores them.  Row group by row group: the reader's buffers (pages read and
    decompressed) are one row group's, where reading the file whole held ≈ 90 MiB more
    at 10^6 claims, for the same time.  ``cancelled``: when set, the read stops before
    the next row group (ReadCancelled).

    The money columns (decimals of at most 18 digits) are decoded by
    backends/parquet_decimals.py on this thread, as decimal64 (the unscaled
    int64 as stored: pyarrow's decimal128 is the same values in twice the bytes), each
    column into one array (its row groups' chunks are slices of it), while pyarrow
    reads the other columns on its own threads; a column laid out in a way that module
    does not decode is read by pyarrow after them."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yibao.backends import parquet_decimals

    def go_on() -> None:
        if cancelled is not None and cancelled.is_set():
            raise ReadCancelled(path)

    with naming(path):
        metadata = pq.read_metadata(path)
    schema = metadata.schema
    leaves = [schema.column(i) for i in range(len(schema))]
    repeated = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY"
                and leaf.path.split(".")[0] in REPEATED_TEXT]
    with pq.ParquetFile(path, read_dictionary=repeated) as file:
        if file.num_row_groups == 0:
            return file.schema_arrow.empty_table()
        arrow_schema = file.schema_arrow
        groups = range(file.num_row_groups)
        money = [name for name in arrow_schema.names
                 if parquet_decimals.decodable(schema, arrow_schema, name)]
        others = [name for name in arrow_schema.names if name not in money]

        def read(names: list[str]):
            tables = []
            for index in groups:
                go_on()
                tables.append(file.read_row_group(index, columns=names))
            return pa.concat_tables(tables)

        decoded: dict[str, pa.ChunkedArray] = {}
        # a row group's rows start where the ones before it end in each column's one array
        bounds = np.cumsum([0] + [metadata.row_group(i).num_rows for i in groups])
        scratch = parquet_decimals.Scratch()
        with ThreadPoolExecutor(1) as reader:
            rest = reader.submit(read, others)
            with open(path, "rb") as source:
                for name in money:
                    go_on()
                    at = parquet_decimals.leaf(schema, name)
                    kind = arrow_schema.field(name).type
                    values = np.empty(int(bounds[-1]), dtype=np.int64)
                    try:
                        decoded[name] = pa.chunked_array(
                            [parquet_decimals.read_column(
                                source, metadata, schema.column(at), i, at, kind,
                                values[bounds[i]:bounds[i + 1]], scratch) for i in groups])
                    except parquet_decimals.Unsupported:
                        pass
            table = rest.result()
        left = [name for name in money if name not in decoded]
        if left:
            read_left = read(left)
            decoded.update((name, read_left.column(name)) for name in left)
    columns = [decoded[name] if name in decoded else table.column(name)
               for name in arrow_schema.names]
    return pa.table(columns, names=arrow_schema.names)


class ParquetRead:
    """:func:`read_parquet` of ``path`` on a thread started now; :meth:`table` waits for
    it.  An error of the read (no such file, not Parquet) is raised by :meth:`table`, in
    the caller's thread, as the read would have raised it there: a run that fails
    before it asks for the table (a policy that does not load) reports that failure,
    as it did when it read after loading."""

    def __init__(self, path: str):
        # pyarrow's modules are imported here, before the thread starts: imported on the
        # thread, they would share the interpreter with the caller's imports, and the
        # read would start no sooner than if the caller had waited.
        import pyarrow.parquet  # noqa: F401

        from yibao.backends import parquet_decimals  # noqa: F401  (NumPy too)

        self.path = path
        self._cancelled = threading.Event()
        self._outcome: list = []   # the table, or the exception the read raised
        self._thread = threading.Thread(target=self._read, name="yibao-read-claims")
        self._thread.start()

    def _read(self) -> None:
        try:
            self._outcome.append(read_parquet(self.path, self._cancelled))
        except BaseException as error:   # noqa: BLE001 - handed to the caller by table()
            self._outcome.append(error)

    def table(self):
        """The file's table, once: this object lets go of it, so that the caller's
        reference is the only one (the engine lets the columns go as it is done with
        them: columnar/runner.py)."""
        self._thread.join()
        if not self._outcome:
            raise RuntimeError(f"{self.path}: the claims table was taken already")
        outcome = self._outcome.pop()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Give the read up (the run stopped before it needed the claims): it stops
        before its next row group, and whatever it read is let go."""
        self._cancelled.set()
        self._thread.join()
        self._outcome.clear()
