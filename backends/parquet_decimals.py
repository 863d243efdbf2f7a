"""A Parquet file's money columns (decimals of at most 18 digits) decoded with NumPy.

pyarrow decodes a dictionary-encoded FIXED_LEN_BYTE_ARRAY decimal value by value
into decimal128: ≈ 85 ms of CPU a column at 10^6 claims, four columns ≈ 0.3 s,
three quarters of reading a claims file (benchmarks/RESULTS.md, "The columnar
engine").  The values are 8-byte big-endian integers (the unscaled amount: fen at
scale 2), stored once each in a dictionary page, and the rows are indices into it,
bit-packed.  So here a column chunk's pages are read as they are written
(parquet-format's PageHeader, its Thrift compact encoding, the RLE/bit-packed hybrid)
and decoded array by array: the dictionary converted once, the indices unpacked eight
bit positions at a time, the rows taken from the dictionary: ≈ 5–10 ms a column.

The result is the very array pyarrow makes (decimal128 of the column's precision and
scale, the low word the unscaled value, the high word its sign; nulls where the
definition levels say), so nothing after the read can tell the two apart
(tests/backends/test_parquet_decimals.py compares them on every layout the writer
makes).  Anything this module does not know for sure — another encoding, a nested or
repeated column, a codec pyarrow's ``Codec`` does not decompress, an index page, a
page whose sizes disagree — raises :class:`Unsupported`, and the caller reads that
column with pyarrow as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# parquet-format's enums (parquet.thrift)
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_PLAIN, _PLAIN_DICTIONARY, _RLE, _RLE_DICTIONARY = 0, 2, 3, 8
# (pyarrow's metadata names both of parquet's LZ4 codecs "LZ4": left to pyarrow)
_CODECS = {"UNCOMPRESSED": None, "SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd",
           "BROTLI": "brotli"}
_WIDTHS = {"FIXED_LEN_BYTE_ARRAY": None, "INT64": 8, "INT32": 4}


class Unsupported(Exception):
    """A column chunk laid out in a way this module does not decode: read it with pyarrow."""


def leaf(parquet_schema, name: str) -> int | None:
    """The index of the one leaf column whose path is ``name``, or None."""
    found = [i for i in range(len(parquet_schema)) if parquet_schema.column(i).path == name]
    return found[0] if len(found) == 1 else None


def decodable(parquet_schema, arrow_schema, name: str) -> bool:
    """Is the column ``name`` one this module decodes: a top-level, non-repeated decimal
    of at most 18 digits, stored as 1–8 fixed bytes or an int64/int32, that pyarrow
    reads as decimal128 of the same precision and scale?"""
    index = arrow_schema.get_field_index(name)
    at = leaf(parquet_schema, name)
    if index < 0 or at is None:
        return False
    kind = arrow_schema.field(index).type
    column = parquet_schema.column(at)
    if not pa.types.is_decimal128(kind):
        return False
    logical = column.logical_type.to_json()
    return ('"Type":"Decimal"' in logical and column.max_repetition_level == 0
            and column.max_definition_level <= 1 and column.physical_type in _WIDTHS
            and column.precision == kind.precision and column.scale == kind.scale
            and kind.precision <= 18
            and (column.physical_type != "FIXED_LEN_BYTE_ARRAY" or 1 <= column.length <= 8))


class Scratch:
    """What a read reuses from chunk to chunk: the column chunk's bytes and its
    dictionary's values.  A fresh array a chunk is fresh memory, which the kernel maps
    4 kB page by page on its first touch (≈ 20,000 page faults at 10^6 claims, more
    system time than the decoding's own; measured ≈ 10 µs a fault under load)."""

    def __init__(self):
        self._bytes = bytearray()
        self._values = np.empty(0, dtype=np.int64)

    def chunk(self, source, size: int) -> memoryview:
        """``size`` bytes of ``source`` from where it stands."""
        if len(self._bytes) < size:
            self._bytes = bytearray(size)
        view = memoryview(self._bytes)[:size]
        if source.readinto(view) != size:
            raise Unsupported("the column chunk is cut short")
        return view

    def values(self, count: int) -> np.ndarray:
        if len(self._values) < count:
            self._values = np.empty(count, dtype=np.int64)
        return self._values[:count]


def read_column(source, metadata, parquet_column, row_group: int, column: int,
                kind: pa.DataType, out: np.ndarray | None = None,
                scratch: Scratch | None = None) -> pa.Array:
    """One row group's chunk of a decodable column (:func:`decodable`): pyarrow's values,
    as decimal64 of ``kind``'s precision and scale.  ``source``: the open file (binary,
    seekable); ``out``: an int64 array of the row group's length to hold the values (a
    slice of one array for the whole column: one large allocation, mapped in huge pages,
    where one a chunk is mapped in small ones); ``scratch``: buffers to reuse."""
    chunk = metadata.row_group(row_group).column(column)
    rows = metadata.row_group(row_group).num_rows
    codec_name = chunk.compression
    if codec_name not in _CODECS:
        raise Unsupported(f"codec {codec_name}")
    codec = pa.Codec(_CODECS[codec_name]) if _CODECS[codec_name] else None
    width = _WIDTHS[parquet_column.physical_type] or parquet_column.length
    big_endian = parquet_column.physical_type == "FIXED_LEN_BYTE_ARRAY"
    optional = parquet_column.max_definition_level == 1
    start = (chunk.dictionary_page_offset if chunk.has_dictionary_page
             else chunk.data_page_offset)
    if start is None or start < 0:
        raise Unsupported("no page offset")
    scratch = scratch or Scratch()
    source.seek(start)
    buffer = scratch.chunk(source, chunk.total_compressed_size)
    dictionary = None
    # the present rows' values, page after page (then spread over the rows, if any is null)
    values = np.empty(rows, dtype=np.int64) if out is None else out
    if len(values) != rows:
        raise ValueError(f"{len(values)} places for {rows} rows")
    filled = 0
    valid_parts: list[np.ndarray] = []
    at, seen = 0, 0
    while seen < rows:
        if at >= len(buffer):
            raise Unsupported("the pages end before the rows")
        header, at = _struct(buffer, at)
        page_type, size = header.get(1), header.get(3)
        uncompressed = header.get(2)
        if size is None or uncompressed is None or at + size > len(buffer):
            raise Unsupported("a page's size")
        body = buffer[at:at + size]
        at += size
        if page_type == _DICTIONARY_PAGE:
            page = header.get(7) or {}
            if dictionary is not None or page.get(2) not in (_PLAIN, _PLAIN_DICTIONARY):
                raise Unsupported("dictionary page")
            raw = _decompress(codec, body, uncompressed)
            entries = page.get(1, 0)
            dictionary = scratch.values(entries)
            _plain(raw, entries, width, big_endian, dictionary)
        elif page_type == _DATA_PAGE:
            page = header.get(5)
            if page is None:
                raise Unsupported("data page header")
            count = page.get(1, 0)
            raw = _decompress(codec, body, uncompressed)
            pos = 0
            if optional:
                if page.get(3) != _RLE or len(raw) < 4:
                    raise Unsupported("definition levels")
                length = int.from_bytes(raw[0:4], "little")
                valid = _hybrid(raw[4:4 + length], 1, count).astype(bool)
                pos = 4 + length
            else:
                valid = None
            present = count if valid is None else int(np.count_nonzero(valid))
            if filled + present > rows:
                raise Unsupported("more values than rows")
            _values(raw[pos:], page.get(2), width, big_endian, dictionary,
                    values[filled:filled + present])
            filled += present
            valid_parts.append(valid if valid is not None else np.ones(count, dtype=bool))
            seen += count
        elif page_type == _DATA_PAGE_V2:
            page = header.get(8)
            if page is None:
                raise Unsupported("data page header")
            count, nulls = page.get(1, 0), page.get(2, 0)
            def_length, rep_length = page.get(5, 0), page.get(6, 0)
            if rep_length or (def_length and not optional):
                raise Unsupported("levels")
            levels = body[:def_length]
            data = body[def_length:]
            if page.get(7, True) and codec is not None:
                data = _decompress(codec, data, uncompressed - def_length)
            if optional:
                valid = _hybrid(levels, 1, count).astype(bool)
            else:
                valid = np.ones(count, dtype=bool)
            present = int(np.count_nonzero(valid))
            if present != count - nulls:
                raise Unsupported("null count")
            if filled + present > rows:
                raise Unsupported("more values than rows")
            _values(data, page.get(4), width, big_endian, dictionary,
                    values[filled:filled + present])
            filled += present
            valid_parts.append(valid)
            seen += count
        else:
            raise Unsupported(f"page type {page_type}")
    if seen != rows:
        raise Unsupported("the pages hold another number of rows")
    return _decimal64(kind, values, filled, valid_parts)


def _decimal64(kind, values: np.ndarray, filled: int, valid_parts) -> pa.Array:
    """The row group's ``values`` (the present rows' ``filled`` first) → a decimal64
    array of ``kind``'s precision and scale over the same memory, 0 where a row is
    null."""
    rows = len(values)
    nulls = rows - filled
    bitmap = None
    if nulls:
        valid = _joined(valid_parts, bool)
        present = values[:filled].copy()
        values[:] = 0
        values[valid] = present
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.decimal64(kind.precision, kind.scale), rows,
                                 [bitmap, pa.py_buffer(values)], null_count=nulls)


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The pages' arrays as one (a row group of no rows has no page)."""
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _decompress(codec, body, size: int):
    if codec is None:
        if len(body) != size:
            raise Unsupported("an uncompressed page's size")
        return body
    try:
        out = codec.decompress(body, decompressed_size=size)
    except (pa.ArrowException, ValueError) as error:
        raise Unsupported(f"decompressing a page: {error}") from None
    return memoryview(out).cast("B")


def _values(raw, encoding, width: int, big_endian: bool, dictionary: np.ndarray | None,
            out: np.ndarray) -> None:
    """A data page's present values (after its levels) as int64, written into ``out``
    (as many as it holds)."""
    present = len(out)
    if encoding in (_RLE_DICTIONARY, _PLAIN_DICTIONARY):
        if dictionary is None:
            raise Unsupported("dictionary indices before a dictionary")
        if present == 0:
            return
        if len(raw) < 1:
            raise Unsupported("no bit width")
        indices = _hybrid(raw[1:], raw[0], present)
        if len(dictionary) == 0 or int(indices.max()) >= len(dictionary):
            raise Unsupported("an index past the dictionary")
        np.take(dictionary, indices, out=out, mode="clip")   # every index checked above
    elif encoding == _PLAIN:
        _plain(raw, present, width, big_endian, out)
    else:
        raise Unsupported(f"encoding {encoding}")


def _plain(raw, count: int, width: int, big_endian: bool, out: np.ndarray) -> None:
    """``count`` PLAIN values into ``out``: big-endian two's complement of ``width``
    bytes (a fixed byte array), or little-endian int32/int64."""
    if len(raw) < count * width:
        raise Unsupported("a page shorter than its values")
    data = np.frombuffer(raw, dtype=np.uint8, count=count * width)
    if not big_endian:
        np.copyto(out, data.view("<i8" if width == 8 else "<i4"))
    elif width == 8:
        np.copyto(out, data.view(">i8"))
    else:   # fewer bytes: sign-extended into 8, then read as one big-endian int64
        grid = data.reshape(count, width)
        wide = np.empty((count, 8), dtype=np.uint8)
        wide[:, :8 - width] = np.where(grid[:, :1] >= 0x80, 0xFF, 0).astype(np.uint8)
        wide[:, 8 - width:] = grid
        np.copyto(out, wide.reshape(-1).view(">i8"))


def _hybrid(raw, bits: int, count: int) -> np.ndarray:
    """``count`` values of parquet's RLE/bit-packed hybrid encoding at bit width ``bits``
    (no length prefix), as unsigned integers (8, 16 or 32 bits).  A writer cuts a long stretch of distinct values
    into bit-packed runs of one size (Arrow's: 63 groups of 8): those runs are found
    at once, by their headers' bytes at a stride, and unpacked together with the
    others, in one pass."""
    if bits > 32:
        raise Unsupported("bit width")
    if count == 0:
        return np.zeros(0, dtype=np.uint32)
    flat = np.frombuffer(raw, dtype=np.uint8)
    size = len(flat)
    value_bytes = (bits + 7) // 8
    pieces: list = []       # (None, values from the literal stream) or (value, repeat)
    literal: list = []      # the bit-packed runs' bytes, in order
    at = made = 0
    while made < count:
        header, start = _uleb(raw, at, size)
        if header & 1:   # bit-packed: ``groups`` groups of 8 values, ``bits`` bytes a group
            groups = header >> 1
            length = (start - at) + groups * bits
            runs = 1
            if groups:   # the same header again at each run's length: runs of one size
                most = min(-(-(count - made) // (groups * 8)), (size - at) // length)
                if most > 1:
                    grid = flat[at:at + most * length].reshape(most, length)
                    same = (grid[:, :start - at] == flat[at:start]).all(axis=1)
                    runs = most if same.all() else int(np.argmin(same))
                    literal.append(grid[:runs, start - at:].reshape(-1))
                else:
                    literal.append(flat[start:start + groups * bits])
            if at + runs * length > size:
                raise Unsupported("a bit-packed run is cut short")
            pieces.append((None, runs * groups * 8))
            made += runs * groups * 8
            at += runs * length
        else:   # a value repeated
            if start + value_bytes > size:
                raise Unsupported("a repeated run is cut short")
            repeat = header >> 1
            pieces.append((int.from_bytes(raw[start:start + value_bytes], "little"), repeat))
            made += repeat
            at = start + value_bytes
    values = _unpack(literal, bits)
    if len(pieces) == 1 and pieces[0][0] is None:
        return values[:count]
    parts, used = [], 0
    for value, many in pieces:
        if value is None:
            parts.append(values[used:used + many])
            used += many
        else:
            parts.append(np.full(many, value, dtype=values.dtype))
    return np.concatenate(parts)[:count]


def _uleb(raw, at: int, size: int, short: str = "the runs end before the values"
          ) -> tuple[int, int]:
    """An unsigned LEB128 integer at ``at`` (a run's header; Thrift's varint): (its value,
    where what follows it begins); :class:`Unsupported` (``short``) past ``size``."""
    value, shift = 0, 0
    while True:
        if at >= size:
            raise Unsupported(short)
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _unpack(literal: list, bits: int) -> np.ndarray:
    """Bit-packed bytes (whole groups of 8 values, ``bits`` bytes a group) unpacked:
    value j of a group at bits [j·bits, (j+1)·bits) of its bytes, least significant bit
    first, as uint32."""
    data = (literal[0] if len(literal) == 1 else np.concatenate(literal) if literal
            else np.zeros(0, dtype=np.uint8))
    if bits == 0 or len(data) == 0:
        return np.zeros(len(data) * 8 // max(bits, 1), dtype=np.uint32)
    if bits in (8, 16, 32):   # byte-aligned: the bytes are the values, little-endian
        return np.ascontiguousarray(data).view({8: "<u1", 16: "<u2", 32: "<u4"}[bits])
    groups = data.reshape(-1, bits)
    out = np.empty((len(groups), 8), dtype=np.uint32)
    # a value's bytes fit in 32 bits when they are at most 25 (it starts within a byte)
    wide = np.uint32 if bits <= 25 else np.uint64
    mask = wide((1 << bits) - 1)
    for j in range(8):
        first = j * bits
        byte, shift = first >> 3, first & 7
        word = groups[:, byte].astype(wide)
        for k in range(1, (shift + bits + 7) >> 3):
            word |= groups[:, byte + k].astype(wide) << wide(8 * k)
        out[:, j] = (word >> wide(shift)) & mask
    return out.reshape(-1)


# ---- Thrift's compact protocol, as much of it as a PageHeader needs ---------------------
def _varint(buffer, at: int) -> tuple[int, int]:
    return _uleb(buffer, at, len(buffer), "a page header is cut short")


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _struct(buffer, at: int) -> tuple[dict, int]:
    """A struct: field id → value (nested structs as dicts; lists, maps and binaries
    read past and kept as None)."""
    fields: dict = {}
    last = 0
    while True:
        if at >= len(buffer):
            raise Unsupported("a page header is cut short")
        byte = buffer[at]
        at += 1
        kind = byte & 0x0F
        if kind == 0:
            return fields, at
        delta = byte >> 4
        if delta:
            field = last + delta
        else:
            raw, at = _varint(buffer, at)
            field = _zigzag(raw)
        last = field
        fields[field], at = _value(buffer, at, kind)


def _value(buffer, at: int, kind: int):
    if kind == 1:
        return True, at
    if kind == 2:
        return False, at
    if kind == 3:
        if at >= len(buffer):
            raise Unsupported("a page header is cut short")
        return buffer[at], at + 1
    if kind in (4, 5, 6):
        raw, at = _varint(buffer, at)
        return _zigzag(raw), at
    if kind == 7:
        return None, at + 8
    if kind == 8:
        length, at = _varint(buffer, at)
        return None, at + length
    if kind in (9, 10):
        head = buffer[at] if at < len(buffer) else _cut()
        at += 1
        size, element = head >> 4, head & 0x0F
        if size == 15:
            size, at = _varint(buffer, at)
        for _ in range(size):
            _, at = _element(buffer, at, element)
        return None, at
    if kind == 11:
        size, at = _varint(buffer, at)
        if size:
            head = buffer[at] if at < len(buffer) else _cut()
            at += 1
            for _ in range(size):
                _, at = _element(buffer, at, head >> 4)
                _, at = _element(buffer, at, head & 0x0F)
        return None, at
    if kind == 12:
        return _struct(buffer, at)
    raise Unsupported(f"thrift type {kind}")


def _element(buffer, at: int, kind: int):
    """A list's or map's element: a boolean is a byte of its own there."""
    if kind in (1, 2):
        return None, at + 1
    return _value(buffer, at, kind)


def _cut():
    raise Unsupported("a page header is cut short")
