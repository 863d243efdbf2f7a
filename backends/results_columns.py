"""A batch's outcomes written column by column: the Parquet results table and
the JSON Lines text, in input order.

:meth:`BatchResults.exchange` builds one dict a claim (docs/claims.md), which is
what a program reading outcomes wants.  Writing a file of a million results
that way takes several times as long as settling them (≈ 20 µs a claim for the
dicts, the JSON and Arrow's row reader, against ≈ 3 µs for the settlement), so
``yibao eval --backend duckdb|spark`` writes through here instead: the same
outcomes built with Arrow kernels over the result columns, with the few
refused claims (their errors are Python objects) merged in by input position.

What varies between claims only through the policy — a version's lines, the
alert and referral lists a claim can have, the identity names — is worked out
once per distinct value and taken by index.  Money stays integer fen until it
becomes a ``decimal(18,2)`` (the same 128-bit integer, read with scale 2) or
the text ``"<yuan>.<fen>"``.  tests/backends/test_results_columns.py holds both
outputs to :meth:`BatchResults.exchange`, row for row and byte for byte.
"""

from __future__ import annotations

import bisect
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Callable, Iterator

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.outcomes import BatchResults
from yibao.backends.results_io import (DICTIONARY_COLUMNS, STATISTICS_COLUMNS, error_row,
                                       parquet_schema, result_columns)
from yibao.backends.threads import built_in_order
from yibao.dsl.model import Policy

CHUNK = 131_072   # result rows a Parquet row group
# Result rows turned into JSON Lines text at a time: a line is ≈ 330 bytes, and a
# chunk's text with its pieces ≈ 60 MB at 131,072 rows, three of them held at once
# (one written, AHEAD built): at 10^6 claims that raised the run's peak by ≈ 55 MiB
# past the settlement's, where chunks half as long stay under it for the same CPU.
TEXT_CHUNK = 65_536
# Chunks built ahead of the one being written, on threads of their own: Arrow's
# kernels release the GIL, so the two cores build text (or a table) at once while
# the file takes the previous chunk; what is held stays a few chunks whatever the
# batch's size.
AHEAD = 2


# ---- money -----------------------------------------------------------------------------
def money_decimal(fen: pa.Array) -> pa.Array:
    """Integer fen as ``decimal(18,2)``: a decimal's value is an unscaled integer, so fen
    read with scale 2 is the amount in yuan, exactly (|fen| < 10^18: MAX_AMOUNT is 10^14).

    A decimal128 is the 128-bit two's complement integer in the machine's byte order:
    on a little-endian machine the fen, then its sign (fen >> 63) in the high word,
    written by NumPy into the array's one buffer (a third of Arrow's cast, which checks
    every value against the precision); null stays null."""
    if sys.byteorder != "little" or not pa.types.is_integer(fen.type):
        return pc.cast(fen, pa.decimal128(19, 0)).view(pa.decimal128(18, 2))
    values = (pc.fill_null(fen, 0) if fen.null_count else fen).to_numpy(zero_copy_only=False)
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    np.right_shift(words[:, 0], 63, out=words[:, 1])
    validity = pa.array(pc.is_valid(fen)).buffers()[1] if fen.null_count else None
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(values),
                                 [validity, pa.py_buffer(words)])


def money_text(fen: pa.Array) -> pa.Array:
    """Integer fen as the exchange format's ``"12.05"`` (core/money.format_money's text:
    ``"-0.05"`` for a negative amount, which no result holds); null stays null."""
    text = joined(money_pieces(fen))
    if isinstance(text, pa.Scalar):   # one amount throughout: a constant piece
        return pa.array([text.as_py()] * len(fen), pa.string())
    return text


def money_pieces(fen: pa.Array) -> list:
    """The pieces of :func:`money_text`: the sign, the yuan's digits, then "." and the
    fen's two digits, for a caller joining them into a longer text at once (a results
    line).  The yuan and fen are split in NumPy on the magnitude, and ".05" taken from a
    table of 100 (a Lookup, into which :func:`joined` folds the text around it), where
    padding and slicing the text cost three string kernels more (a third of writing the
    JSON Lines results).  |fen| < 2^63: MAX_AMOUNT is 10^14 fen."""
    valid = None
    if fen.null_count:   # never in a result: a null line is refused by the caller
        valid = pc.is_valid(fen)
        fen = pc.fill_null(fen, 0)
    values = fen.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if valid is None and len(values) and values.min() == values.max():
        # One amount in every row (a line no claim of the chunk reaches: 0.00): a text,
        # which joined() folds into the constants around it, where digits and a table
        # of cents were two pieces of the join and a cast.
        amount = int(values[0])
        return [f"{'-' if amount < 0 else ''}{abs(amount) // 100}.{abs(amount) % 100:02d}"]
    negative = values < 0
    yuan, cents = np.divmod(np.abs(values), 100)
    digits = pc.cast(pa.array(yuan), pa.string())
    if valid is not None:
        digits = pc.if_else(valid, digits, pa.scalar(None, pa.string()))
    pieces: list = [digits, Lookup(CENTS, cents)]
    if negative.any():
        pieces.insert(0, Lookup(("", "-"), negative.astype(np.int64)))
    return pieces


CENTS = tuple(f".{n:02d}" for n in range(100))
# Two Lookups side by side are joined into one when they have at most this many pairs
# of texts: a results line ends with a sum's fen, the alerts and the referrals (100 × a
# few × a few), three pieces of Arrow's join that become one table taken by index.
MERGED_TEXTS = 4_096


@attrs.frozen
class Lookup:
    """A piece of text taken by index from a few ``texts``: row i's is texts[index[i]]."""

    texts: tuple[str, ...]
    index: np.ndarray

    def around(self, before: str = "", after: str = "") -> Lookup:
        return Lookup(tuple(before + text + after for text in self.texts), self.index)

    def then(self, following: Lookup) -> Lookup:
        """This piece followed by ``following``, as one Lookup: a text for each pair."""
        return Lookup(tuple(first + second for first in self.texts for second in following.texts),
                      self.index.astype(np.int64) * len(following.texts) + following.index)

    def array(self) -> pa.Array:
        return pa.array(self.texts, pa.string()).take(pa.array(self.index))


def joined(pieces: list) -> pa.Array | pa.Scalar:
    """The pieces (texts, string arrays or scalars, Lookups) joined row by row.

    Arrow's join copies every piece of every row in turn, so fewer pieces is less work:
    a constant text next to a Lookup is folded into the Lookup's few texts (``.05`` and
    the ``", "personal_burden": "`` after it become one piece), and constants next to
    each other are one.  A results line goes from ≈ 50 pieces to ≈ 20, the same text."""
    folded: list = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if folded and isinstance(folded[-1], (str, Lookup)):
                last = folded[-1]
                folded[-1] = last + piece if isinstance(last, str) else last.around(after=piece)
                continue
        elif isinstance(piece, Lookup) and folded and isinstance(folded[-1], str):
            piece = piece.around(before=folded.pop())
        if (isinstance(piece, Lookup) and folded and isinstance(folded[-1], Lookup)
                and len(folded[-1].texts) * len(piece.texts) <= MERGED_TEXTS):
            folded[-1] = folded[-1].then(piece)
            continue
        folded.append(piece)
    if all(isinstance(piece, str) for piece in folded):   # a version without lines
        return pa.scalar("".join(folded))
    arrays = [piece.array() if isinstance(piece, Lookup) else piece for piece in folded]
    return pc.binary_join_element_wise(*arrays, "")


# ---- per-claim values taken from per-policy ones ---------------------------------------
class _Columns:
    """The result rows, one contiguous array a column, and what each version says of them."""

    def __init__(self, batch: BatchResults):
        self.columns = batch.columns
        self.versions: tuple[Policy, ...] = batch.columns.versions
        self.results = batch.results.combine_chunks()
        self.count = len(self.results)
        self.version = self.column("version")

    def column(self, name: str) -> pa.Array:
        chunks = self.results.column(name).chunks
        return chunks[0] if chunks else pa.array([], self.results.schema.field(name).type)

    def line_fen(self, policy: Policy, line: str) -> pa.Array:
        """A line's final payout in fen, as the rows of ``policy`` hold it."""
        name = (self.columns.final_upstream(line) if policy.line(line).upstream
                else self.columns.settled("fin", line))
        return self.column(name)

    def by_version(self, value_of) -> pa.Array | pa.Scalar | None:
        """``value_of(policy)`` (an array, or None where a version has none) for each row's
        version, null where its version has none; None when no version has one.  Rows
        of one version alone (every claim of a year, most often) take its value as it
        is, a text as a scalar: no copy through ``if_else``."""
        only = self.only_version()
        if only is not None:
            value = value_of(self.versions[only])
            return pa.scalar(value) if isinstance(value, str) else value
        chosen = None
        for index, policy in enumerate(self.versions):
            value = value_of(policy)
            if value is None:
                continue
            if isinstance(value, str):
                value = pa.scalar(value)
            otherwise = chosen if chosen is not None else pa.nulls(self.count, value.type)
            chosen = pc.if_else(pc.equal(self.version, index), value, otherwise)
        return chosen

    def only_version(self) -> int | None:
        """The version of every row, when they have one (and there is a row)."""
        if self.count == 0:
            return None
        extremes = pc.min_max(self.version).as_py()
        return extremes["min"] if extremes["min"] == extremes["max"] else None

    def payout_fen(self, line: str) -> pa.Array | None:
        return self.by_version(lambda policy: self.line_fen(policy, line)
                               if policy.line(line) is not None else None)

    def policy_ids(self) -> pa.Array:
        return pa.array([policy.policy_id for policy in self.versions]).take(self.version)

    def named_flags(self, prefix: str) -> tuple[np.ndarray, list[list[str]]]:
        """For each row, an index into the batch's distinct lists of alert (``prefix``
        "alert") or referral names: those whose ``<prefix>_<i>`` flag is set, in the
        order the row's version lists them."""
        names = self.columns.alerts if prefix == "alert" else self.columns.referrals
        key = self.version.to_numpy().astype(np.int64) << len(names)
        for i in range(len(names)):
            flags = self.column(f"{prefix}_{i}").to_numpy(zero_copy_only=False)
            key |= flags.astype(np.int64) << i
        distinct, index = _distinct_small(key)
        lists = []
        for value in distinct.tolist():
            policy = self.versions[value >> len(names)]
            listed = policy.alerts if prefix == "alert" else policy.referrals
            lists.append([item.name for item in listed
                          if (value >> names.index(item.name)) & 1])
        return index, lists


def _distinct_small(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` in linear time when the keys are small
    (a version and a bit a name: a few hundred values), where np.unique sorts the
    column (≈ 0.1 s of the Parquet writer's 0.9 at 10^6 claims)."""
    if len(key) == 0 or key.max() >= 1 << 16:
        return np.unique(key, return_inverse=True)
    distinct = np.flatnonzero(np.bincount(key))
    position = np.zeros(int(distinct[-1]) + 1, dtype=np.intp)
    position[distinct] = np.arange(len(distinct))
    return distinct, position[key]


# ---- Parquet ----------------------------------------------------------------------------
def results_table(batch: BatchResults) -> pa.Table:
    """Every claim's outcome in the Parquet results schema (backends/results_io.py), in
    input order: what writing ``exchange()``'s dicts row by row gives."""
    return pa.concat_tables(list(_table_parts(batch)))


def write_parquet(batch: BatchResults, path: str,
                  meanwhile: Callable[[], None] | None = None) -> int:
    """The results file, a row group per part: what is held is one part at a time.

    ``meanwhile``: work for this thread while the parts are encoded on another (Parquet's
    encoder lets go of the interpreter, and it is the run's last ≈ 0.4 s at 10^6 claims):
    it runs once the file is open, so a file that cannot be written is reported first."""
    import pyarrow.parquet as pq

    from yibao.backends.parquet_claims import naming

    with naming(path):
        opened = pq.ParquetWriter(path, _schema(batch), use_dictionary=DICTIONARY_COLUMNS,
                                  write_statistics=STATISTICS_COLUMNS)
    with opened as writer:
        if meanwhile is None:
            return _write_parts(writer, batch)
        with ThreadPoolExecutor(1) as encoder:
            written = encoder.submit(_write_parts, writer, batch)
            try:
                meanwhile()
            finally:
                count = written.result()
        return count


def _write_parts(writer, batch: BatchResults) -> int:
    count = 0
    for part in _table_parts(batch):
        writer.write_table(part)
        count += len(part)
    return count


def _schema(batch: BatchResults) -> pa.Schema:
    return parquet_schema(result_columns(batch.columns.versions))


def _table_parts(batch: BatchResults) -> Iterator[pa.Table]:
    """The results table, CHUNK settled claims at a time (a row group each) with the
    refusals of their span,
    then the refusals after the last settled claim (at least one part, maybe empty)."""
    schema = _schema(batch)

    def build(chunk) -> pa.Table:
        part, positions, refused = chunk
        return _part_table(batch, schema, part, positions, refused)

    yielded = False
    for table in built_in_order(build, _chunks(batch, CHUNK), AHEAD):
        yielded = True
        yield table
    if not yielded:   # an empty batch still has its schema
        yield schema.empty_table()


class _Rows:
    """Where a part's rows go in its table: the settled claims (at input ``positions``)
    and the ``refused`` positions' error rows, in input order."""

    def __init__(self, positions: np.ndarray | None, refused: list[int]):
        settled = len(positions) if positions is not None else 0
        self.size = settled + len(refused)
        self.refusals = len(refused)
        # a refusal lands after the settled claims before it and the refusals before it;
        # the settled claims take the other rows, in order (a search of the few refusals
        # among the many settled positions, not of each position among the refusals)
        self.refused_at = (np.arange(len(refused)) + np.searchsorted(
            positions, np.asarray(refused, dtype=np.int64)) if settled
            else np.arange(len(refused)))
        self.is_refused = np.zeros(self.size, dtype=bool)
        self.is_refused[self.refused_at] = True
        self.settled_at = np.flatnonzero(~self.is_refused)

    def settled(self, values: pa.Array) -> pa.Array:
        """The settled claims' ``values`` at their rows, null at the refusals' (one take;
        the values themselves when there is no refusal)."""
        if not self.refusals:
            return values
        index = np.zeros(self.size, dtype=np.int64)
        index[self.settled_at] = np.arange(len(self.settled_at))
        return values.take(pa.array(index, mask=self.is_refused))

    def settled_fen(self, fen: pa.Array) -> pa.Array:
        """Fen of the settled claims as the ``decimal(18,2)`` column: spread as integers,
        then cast once (a cast and a take of 16-byte decimals was twice the copying)."""
        if not self.refusals:
            return money_decimal(fen)
        if not pa.types.is_integer(fen.type):   # no engine gives other fen, but be exact
            return self.settled(money_decimal(fen))
        full = np.zeros(self.size, dtype=np.int64)
        full[self.settled_at] = (pc.fill_null(fen, 0) if fen.null_count else fen).to_numpy(
            zero_copy_only=False)
        missing = self.is_refused
        if fen.null_count:
            missing = missing.copy()
            missing[self.settled_at] = pc.is_null(fen).to_numpy(zero_copy_only=False)
        return money_decimal(pa.array(full, mask=missing))

    def settled_codes(self, texts: pa.Array, index: np.ndarray) -> pa.Array:
        """``texts`` taken by each settled claim's ``index``, null at the refusals'."""
        codes = np.full(self.size, len(texts), dtype=np.int64)   # past the end: null
        codes[self.settled_at] = index
        return pa.concat_arrays([texts, pa.nulls(1, texts.type)]).take(pa.array(codes))

    def merged(self, settled: pa.Array, refused: pa.Array) -> pa.Array:
        """The settled claims' ``settled`` values and the refusals' ``refused`` ones, each
        at its rows (the claim ids: both have one)."""
        if not self.refusals:
            return settled
        index = np.empty(self.size, dtype=np.int64)
        index[self.settled_at] = np.arange(len(self.settled_at))
        index[self.refused_at] = len(self.settled_at) + np.arange(self.refusals)
        return pa.concat_arrays([settled, refused]).take(pa.array(index))

    def refused(self, values: list, kind: pa.DataType) -> pa.Array:
        """The refusals' ``values`` at their rows, null at the settled claims'."""
        if not self.refusals:
            return pa.nulls(self.size, kind)
        if len(self.settled_at) == 0:
            return pa.array(values, kind)
        index = np.zeros(self.size, dtype=np.int64)
        index[self.refused_at] = np.arange(self.refusals)
        return pa.array(values, kind).take(pa.array(index, mask=~self.is_refused))


def _part_table(batch: BatchResults, schema: pa.Schema, part: BatchResults | None,
                positions: np.ndarray | None, refused: list[int]) -> pa.Table:
    """A part's rows in input order: its settled claims with the refusals of its span
    among them.  Each column is built once at its full length, the settled claims'
    values put at their rows and the few refusals' at theirs, where building the
    settled rows' table, appending the refusals' and taking the whole table in input
    order copied every column twice (the take was half of building the parts: ≈ 0.15
    of 0.28 s of CPU at 10^6 claims)."""
    rows = _Rows(positions, refused)
    errors = [error_row(batch.errors[idx].to_json()) for idx in refused]
    data: dict[str, pa.Array] = {}
    settled = _Columns(part) if part is not None else None
    ids = pa.array([error["claim_id"] for error in errors], pa.string())
    if settled is None:
        data["claim_id"] = ids
    else:
        data["claim_id"] = rows.merged(settled.column("claim_id").cast(pa.string()), ids)
        data["policy"] = rows.settled_codes(
            pa.array([policy.policy_id for policy in settled.versions], pa.string()),
            settled.version.to_numpy(zero_copy_only=False))
        data["identity"] = rows.settled(settled.column("cand"))
        for line in result_columns(settled.versions):
            fen = settled.payout_fen(line)
            data[f"payout.{line}"] = (rows.settled_fen(fen) if fen is not None
                                      else pa.nulls(rows.size, pa.decimal128(18, 2)))
        data["total_paid"] = rows.settled_fen(settled.column("total_paid"))
        data["personal_burden"] = rows.settled_fen(settled.column("personal_burden"))
        for name, prefix in (("alerts", "alert"), ("referrals", "referral")):
            index, lists = settled.named_flags(prefix)
            data[name] = rows.settled_codes(pa.array(lists, pa.list_(pa.string())), index)
    for name, key in (("error", "error"), ("error_field", "error_field"),
                      ("error_message", "error_message"), ("error_hint", "error_hint"),
                      ("line", "line")):
        data[name] = rows.refused([error[key] for error in errors], schema.field(name).type)
    return pa.table([data[name].cast(field.type) if name in data
                     else pa.nulls(rows.size, field.type)
                     for name, field in zip(schema.names, schema)], schema=schema)


def _chunks(batch: BatchResults, size: int
            ) -> Iterator[tuple[BatchResults | None, np.ndarray | None, list[int]]]:
    """``size`` result rows at a time, their input positions, and the refused positions
    that come before the chunk's last (after the previous chunk's); then, if any
    refusal comes after the last result, ``(None, None, those refusals)``.

    Checks that every record has exactly one outcome, as ``exchange()`` insists."""
    refused = sorted(batch.errors)
    taken = 0
    for start in range(0, len(batch.results), size):
        part = attrs.evolve(batch, results=batch.results.slice(start, size))
        positions = part.results.column("idx").to_numpy()
        end = bisect.bisect_left(refused, int(positions[-1]), lo=taken)
        yield part, positions, refused[taken:end]
        taken = end
    if len(batch.results) + len(refused) != batch.count:
        raise AssertionError(f"{batch.count} records, "
                             f"{len(batch.results) + len(refused)} outcomes")
    if taken < len(refused):
        yield None, None, refused[taken:]


# ---- JSON Lines -------------------------------------------------------------------------
def _json_strings(values: pa.Array) -> pa.Array:
    """Strings as ``json.dumps(value, ensure_ascii=False)`` writes them; null as null.

    That escapes only the quote, the backslash and control characters; an id with a
    control character never gets this far (the validator refuses it, C302), but one
    would still be written by json.dumps itself."""
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    controls = pc.match_substring_regex(values, "[\\x00-\\x1f]")
    if pc.any(controls).as_py():
        exact = pa.array([_dump(v) if v is not None else None for v in values.to_pylist()])
        quoted = pc.if_else(controls, exact, quoted)
    return pc.if_else(pc.is_null(values), "null", quoted)


def _json_string_pieces(values: pa.Array) -> list:
    """:func:`_json_strings` as pieces of a longer text: the quotes and the values as
    they are when no value is null or needs an escape (every settled claim's id, as the
    validator admits them), which spares three copies of the column."""
    if values.null_count == 0 and not _escaped_bytes(values):
        return ['"', values, '"']
    return [_json_strings(values)]


def _json_few_strings(values: pa.Array) -> Lookup:
    """:func:`_json_strings` of a column with a few distinct values (the identity a
    claim is settled under: one of the policy's names, or null) as a Lookup: each
    distinct value written once by json.dumps itself, taken by index, and joined with
    the constants around it.  Escaping, quoting and testing every row cost a fifth of a
    results line's text (≈ 18 of 81 ms for 10^5 lines)."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    texts = tuple("null" if value is None else _dump(value)
                  for value in encoded.dictionary.to_pylist())
    return Lookup(texts, encoded.indices.to_numpy(zero_copy_only=False))


def _escaped_bytes(values: pa.Array) -> bool:
    """Does any value hold a byte json.dumps escapes (a quote, a backslash, a control
    character)?  Tested on the values' UTF-8 bytes at once, where a regular expression
    over the values cost ≈ 0.1 s a column at 10^6 claims: exact, since every byte of a
    multi-byte character is 0x80 or more."""
    if len(values) == 0:
        return False
    if not pa.types.is_string(values.type):   # a dictionary or a large string: the kernel
        return pc.any(pc.match_substring_regex(values, r'["\\\x00-\x1f]')).as_py()
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)
    low, high = int(offsets[values.offset]), int(offsets[values.offset + len(values)])
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[low:high] if high > low \
        else np.zeros(0, dtype=np.uint8)
    return bool(((data < 0x20) | (data == 0x22) | (data == 0x5C)).any())


def results_json(batch: BatchResults) -> pa.Array:
    """Each settled claim's docs/claims.md line (no trace), in ``batch.results``' order:
    ``json.dumps(batch.result_json(row), ensure_ascii=False)``."""
    return _result_lines(batch, "")


def _result_lines(batch: BatchResults, ending: str) -> pa.Array:
    """:func:`results_json`'s lines, each followed by ``ending``: one join of every
    piece of every line, so that a line's text is built once."""
    rows = _Columns(batch)
    if rows.count == 0:
        return pa.array([], pa.string())
    only = rows.only_version()
    if only is not None:   # every claim of a year: the policy's id is a constant
        policy: object = _dump(rows.versions[only].policy_id)
        payouts = _payout_pieces(rows, rows.versions[only])
    else:
        policy = rows.by_version(lambda version: _dump(version.policy_id))
        payouts = [rows.by_version(lambda version: joined(_payout_pieces(rows, version)))]
    pieces = [
        '{"claim_id": ', *_json_string_pieces(rows.column("claim_id")),
        ', "policy": ', policy,
        ', "identity": ', _json_few_strings(rows.column("cand")),
        ', "payouts": {', *payouts,
        '}, "total_paid": "', *money_pieces(rows.column("total_paid")),
        '", "personal_burden": "', *money_pieces(rows.column("personal_burden")), '", ',
        _lists_text(*rows.named_flags("alert"), "alerts"), ", ",
        _lists_text(*rows.named_flags("referral"), "referrals"), "}" + ending]
    lines = joined(pieces)
    if lines.null_count:   # a NULL figure would drop its whole line without a word
        raise AssertionError(f"{lines.null_count} settled claim(s) with a NULL output column")
    return lines


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _payout_pieces(rows: _Columns, policy: Policy) -> list:
    """The pieces of ``"<line>": "<amount>"`` for each line of ``policy``, in its order."""
    pieces: list = []
    for line in policy.lines:
        pieces += [('", ' if pieces else "") + _dump(line.name) + ': "',
                   *money_pieces(rows.line_fen(policy, line.name))]
    return pieces + ['"'] if pieces else [""]


def _lists_text(index: np.ndarray, lists: list[list[str]], key: str) -> Lookup:
    return Lookup(tuple(f'"{key}": {_dump(names)}' for names in lists), index)


def write_jsonl(batch: BatchResults, out: BinaryIO) -> int:
    """Every claim's line (results and refusals) to ``out``, UTF-8, in input order; how
    many.

    The result rows go TEXT_CHUNK at a time, so the text held is bounded whatever the
    batch's size; a chunk's lines, each with its newline, are written as the buffer
    Arrow holds them in (no Python string per line), cut where the refusals of the
    chunk's span go.  The next chunks' text is built on other threads while one is
    written (backends/threads.py)."""
    def build(chunk) -> tuple[list, int]:
        part, positions, refused = chunk
        lines = _result_lines(part, "\n") if part is not None else pa.array([], pa.string())
        return _in_input_order(lines, positions, batch, refused), len(lines) + len(refused)

    written = 0
    fileno = _file_number(out)
    for pieces, lines in built_in_order(build, _chunks(batch, TEXT_CHUNK), AHEAD):
        if fileno is None:
            for piece in pieces:
                out.write(piece)
        else:
            _write_gathered(fileno, pieces)
        written += lines
    return written


def _file_number(out) -> int | None:
    """The descriptor under ``out`` (its buffer flushed), or None (an in-memory stream,
    or a system without ``os.writev``: Windows)."""
    import os

    if not hasattr(os, "writev"):
        return None
    try:
        fileno = out.fileno()
    except (AttributeError, OSError, ValueError):   # io.UnsupportedOperation is both
        return None
    out.flush()
    return fileno


# iovecs a writev takes at most (POSIX's IOV_MAX is at least 16; Linux's 1,024)
GATHERED = 1_024


def _write_gathered(fileno: int, pieces: list) -> None:
    """The pieces written one after another to ``fileno`` with ``os.writev``, a call for
    up to GATHERED of them.  A chunk's text is cut into runs at each refused claim's
    line: written one by one through the file object that was two system calls a
    refusal (≈ 25,000 for 10^6 synthetic claims, each refused for C311)."""
    import os

    views = [memoryview(piece).cast("B") for piece in pieces if len(piece)]
    first = 0
    while first < len(views):
        done = os.writev(fileno, views[first:first + GATHERED])
        while first < len(views) and done >= len(views[first]):   # a pipe may take less
            done -= len(views[first])
            first += 1
        if done:
            views[first] = views[first][done:]


def _in_input_order(lines: pa.Array, positions: np.ndarray | None, batch: BatchResults,
                    refused: list[int]) -> list:
    """``lines`` (each with its newline, at input ``positions``) and the ``refused``
    claims' error lines, in input order, as UTF-8 buffers to write one after another:
    runs of ``lines``' own buffer between the refusals, never a copy of the text."""
    errors = [(_dump(batch.errors[idx].to_json()) + "\n").encode("utf-8") for idx in refused]
    if len(lines) == 0:
        return errors
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset:lines.offset + len(lines) + 1]
    text = memoryview(lines.buffers()[2])
    # the result rows before each refusal: runs [cut_k, cut_k+1) of lines between them
    cuts = [0, *np.searchsorted(positions, np.asarray(refused, dtype=np.int64)).tolist(),
            len(lines)]
    pieces: list = []
    for k, (low, high) in enumerate(zip(cuts[:-1], cuts[1:])):
        if high > low:
            pieces.append(text[int(offsets[low]):int(offsets[high])])
        if k < len(errors):
            pieces.append(errors[k])
    return pieces
