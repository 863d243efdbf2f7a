"""JSON Lines parsed once, typed, on every core: the lines Arrow can vouch for.

DuckDB's JSON functions parse a line once per call, and admission needed five
passes over each (its type, the paths' text, their types, the keys, a scan for
trailing commas: 8.3 s of CPU for 10^6 claims).  Here each line is parsed once,
by Arrow's JSON reader, against the schema the policy gives a claim:

- the five texts, the two costs, each ``paid`` line and each declared money
  field as strings (money as JSON text: a JSON number would be read through a
  double);
- ``identities`` a list of strings, ``paid`` an object of the upstream lines;
- a bool field a boolean, a count field an integer (int64).

Arrow's reader is strict where this needs it: a key outside the schema, a key
given twice, a value of another type, a trailing comma, a lone surrogate, an
unescaped control character, anything that is not one JSON object make the
whole block fail.  A block that fails is cut into parts and each part read again,
down to a few lines; lines still failing are *careful*: they take DuckDB's
path of JSON functions (backends/duckdb_io.py), which judges them line by line
as before.  So are the lines that are not UTF-8, that start with a byte-order
mark (Arrow skips one at the start of a block) and that hold ``null`` anywhere: Arrow reads a JSON null and a missing key alike, which
admission tells apart (a declared field given as null is absent; an unknown
field given as null is not).  For every other line the typed columns are
exactly what the JSON functions would have found, so both paths hand the
same standard raw columns (backends/admission.py) to the same checks, and a
suspect claim still goes to the validator with its raw line: refusals do not
change.

Blocks are read on a thread each (Arrow releases the GIL), so both cores parse.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from yibao.backends.columns import ClaimColumns
from yibao.backends.threads import cores

# Lines per block: a few MiB of claims, so that a block's parse is long beside the
# cost of starting it, and a failing block costs little to read again.
BLOCK_LINES = 16_384
# A failing block is cut into this many parts, each read again: a few bad lines
# among many good ones cost a few parses of their neighbourhood, while a file of
# bad lines (every part failing) reaches the careful path in a few rounds.
PARTS = 8
# Parts of at most this many lines are not cut further: careful lines.
CAREFUL_LINES = 64
NULL = re.compile(rb"null")
BOM = b"\xef\xbb\xbf"
TEXT_KEYS = ("claim_id", "person_id", "date", "scheme", "visit", "total_cost",
             "in_scope_cost")


def claim_schema(columns: ClaimColumns):
    """The Arrow schema of a claim line the fast path reads (see the module's text)."""
    import pyarrow as pa

    text = pa.string()
    fields = [(name, text) for name in TEXT_KEYS]
    fields.append(("identities", pa.list_(text)))
    if columns.upstream:   # an empty struct is no type Arrow's reader takes
        fields.append(("paid", pa.struct([(line, text) for line in columns.upstream])))
    kinds = {"bool": pa.bool_(), "count": pa.int64()}
    fields += [(name, kinds.get(field.type, text))
               for name, field in columns.field_types().items()]
    return pa.schema(fields)


def typed_lines(text, columns: ClaimColumns, threads: int | None = None):
    """``text`` (the lines, an Arrow string array, NULL for a line not UTF-8) →
    (typed, careful): an Arrow table of the lines parsed (``pos``, their position in
    ``text``, then claim_schema's columns) and a NumPy bool array, True for each
    line left to the careful path.

    ``threads``: how many parse the blocks (default: every core); ``1`` for a caller
    that runs this on a thread of its own, a block of the file each
    (jsonl_claims.read_typed_claims), and hands the freed memory back itself."""
    import numpy as np
    import pyarrow as pa

    schema = claim_schema(columns)
    count = len(text)
    careful = np.zeros(count, dtype=bool)
    if count == 0:
        return _empty(schema), careful
    valid = text.is_valid().to_numpy(zero_copy_only=False)
    careful |= ~valid
    offsets = np.frombuffer(text.buffers()[1], dtype=_offset_type(text.type))[
        text.offset:text.offset + count + 1].astype(np.int64)
    data = text.buffers()[2]
    # "null" anywhere in a line, in a string too (the careful path settles it): a search
    # of the buffer, the lines found by their offsets (a tenth of a kernel over the lines)
    found = np.fromiter((match.start() for match in NULL.finditer(data)), dtype=np.int64)
    careful[np.searchsorted(offsets, found, side="right") - 1] = True
    # Arrow skips a byte-order mark at the start of what it reads, so at the start of
    # every block and part; the decoder refuses one (but on the file's first line,
    # which the careful path strips as the scalar reader does)
    codes = np.frombuffer(data, dtype=np.uint8)
    starts = offsets[:-1][offsets[:-1] + len(BOM) <= offsets[1:]]
    marked = starts[codes[starts] == BOM[0]]
    marked = marked[(codes[marked + 1] == BOM[1]) & (codes[marked + 2] == BOM[2])]
    careful[np.searchsorted(offsets, marked, side="right") - 1] = True
    # Arrow never sees a careful line: a line that is just ``null`` crashes its reader
    # (pyarrow 2x: a segmentation fault), so blocks are cut around them
    blocks = [(start, min(start + BLOCK_LINES, count)) for start in range(0, count, BLOCK_LINES)]
    def read(block):
        return _read_block(block, data, offsets, careful, schema)

    if threads == 1:
        parsed = [read(block) for block in blocks]
    else:
        with ThreadPoolExecutor(threads or cores()) as pool:
            parsed = list(pool.map(read, blocks))
        # The reader's working buffers are freed, but the allocator (mimalloc) keeps
        # them for reuse unless told: 10^6 claims held ≈ 400 MB more through admission.
        pa.default_memory_pool().release_unused()
    tables, positions = [], []
    for pieces, failed in parsed:
        for (start, stop), table in pieces:
            tables.append(table)
            positions.append(np.arange(start, stop, dtype=np.int64))
        for start, stop in failed:
            careful[start:stop] = True
    if not tables:
        return _empty(schema), careful
    typed = pa.concat_tables(tables)
    return typed.add_column(0, "pos", pa.array(np.concatenate(positions))), careful


def _offset_type(kind):
    import numpy as np
    import pyarrow as pa

    return np.int64 if kind in (pa.large_string(), pa.large_binary()) else np.int32


def _empty(schema):
    import pyarrow as pa

    return pa.schema([("pos", pa.int64()), *schema]).empty_table()


def _read_block(block, data, offsets, careful, schema):
    """Parse the lines of [start, stop) not yet careful: ([((start, stop), table)] in file
    order, [(start, stop) found careful])."""
    import pyarrow as pa
    import pyarrow.json as pj

    start, stop = block
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    read = pj.ReadOptions(use_threads=False, block_size=max(1 << 20, int(
        offsets[stop] - offsets[start]) + 1))
    pending, done, failed = _runs(careful[start:stop], start), [], []
    while pending:
        low, high = pending.pop()
        try:
            table = pj.read_json(pa.BufferReader(data.slice(int(offsets[low]), int(
                offsets[high] - offsets[low]))), read_options=read, parse_options=options)
        except pa.ArrowException:
            table = None
        if table is not None and table.num_rows == high - low:
            # one row per line: a line holding two objects fails the count
            done.append(((low, high), table))
        elif high - low <= CAREFUL_LINES:
            failed.append((low, high))
        else:
            step = -(-(high - low) // PARTS)
            pending += [(part, min(part + step, high)) for part in range(low, high, step)]
    done.sort(key=lambda piece: piece[0])
    return done, failed


def _runs(careful, first: int) -> list[tuple[int, int]]:
    """The runs of consecutive lines not careful, as (start, stop) from ``first``."""
    import numpy as np

    edges = np.flatnonzero(np.diff(np.concatenate(([True], careful, [True])).astype(np.int8)))
    return [(first + int(low), first + int(high))
            for low, high in zip(edges[::2], edges[1::2])]
