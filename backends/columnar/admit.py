"""Admission of a typed Arrow claims table as masks over its columns: no SQL.

backends/admission.py admits a raw row in SQL when it can vouch for it and sends
every other row, as a record, to the project's own validator.  This module asks
the same questions of a *typed* table (the flat layout of backends/formats.py:
strings, date32, list<string> identities, decimal money, bool and int64 fields)
with Arrow compute and NumPy, one mask a question, and answers them the same
way: a row every mask clears is admitted with its typed values; any other row
is *suspect* and goes to the validator (runtime/claims.py through
outcomes.validate_suspects), which refuses it with the scalar path's code,
field, message and hint, or accepts it with its typed values.

So the masks only ever decide *whether the validator must look*: a mask that
flags too much costs time, never a verdict.  Where a question is hard to ask
over arrays (an upstream payout's bound under a conditional base), the mask
asks a stricter one (the least bound of all the branches), which flags more.

A column of a type the SQL would not read as exact (a float, a decimal of
more than two places, a timestamp for the date, a non-string id) makes each
row holding a value in it suspect, as the SQL does.

The table's columns are read as they come, chunk by chunk (a Parquet file's row
groups), never concatenated: a mask is written into one array for the whole
table, so no copy of the table is made.  A text column may come
dictionary-encoded (runner.run reads ``scheme``, ``visit`` and the identities so):
then a question is asked once of each distinct value in the dictionary, and each
row takes its value's answer by its index.
"""

from __future__ import annotations

import datetime

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.admission import PLAIN_MONEY, SAFE_TEXT, UNSAFE_ID_CHARACTER
from yibao.backends.columns import ClaimColumns
from yibao.backends.formats import flat_to_record
from yibao.backends.typed_dates import iso_dates
from yibao.backends.outcomes import validate_suspects
from yibao.dsl.model import SCHEMES, VISITS
from yibao.runtime.claims import (MAX_COUNT, MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED,
                                  ClaimError)

MONEY_BOUND = 10 ** 14   # fen: the SQL admits amounts below 10^12 yuan (admission.money_fen)


@attrs.frozen
class Admitted:
    """The admitted claims, as arrays aligned with the table's rows.

    ``arrays``: the engine's columns (backends/columnar/runner._numpy_columns' forms:
    ``version``, ``total_fen``, ``in_scope_fen``, ``up_<i>``, ``fld_<i>`` with NULL as 0
    or false, ``has_<i>``) and ``year`` and ``days`` (the date); ``visit`` and
    ``scheme`` as indexes into dsl.model.VISITS and SCHEMES; ``admitted``: the rows
    admitted (by the masks, or by the validator); ``errors``: the validator's refusals
    by input position."""

    arrays: dict
    visit: np.ndarray
    scheme: np.ndarray
    admitted: np.ndarray
    errors: dict[int, ClaimError]
    suspects: int


def start_checks(columns: ClaimColumns, table: pa.Table, side) -> "_Checks":
    """The checks of ``table``, the identities' lists (the longest mask, ≈ 16 ms at 10^6
    claims: Arrow and NumPy kernels, which let go of the interpreter) started now on the
    executor ``side``'s thread, before the caller gives it other work: for ``admit``,
    whose thread works out the other masks meanwhile."""
    return _Checks(columns, table, side)


def admit(engine, columns: ClaimColumns, table: pa.Table, idx: np.ndarray,
          lines: np.ndarray, checks: "_Checks | None" = None) -> Admitted:
    """Admit every row of ``table`` (input positions ``idx``, source lines ``lines``);
    ``checks``: start_checks' for the table, when the identities are checked aside."""
    checks = checks if checks is not None else _Checks(columns, table)
    clean = checks.clean()
    suspect = np.flatnonzero(~clean)
    arrays = checks.engine_arrays()
    visit, scheme = checks.visit, checks.scheme
    raw = take_rows(table, suspect).to_pylist() if len(suspect) else []
    records = [(int(idx[row]), int(lines[row]), _record(values))
               for row, values in zip(suspect.tolist(), raw)]
    accepted, errors = validate_suspects(engine, columns, records)
    admitted = clean.copy()
    by_position = dict(zip(idx[suspect].tolist(), zip(suspect.tolist(), raw)))
    for typed in accepted:
        row, values = by_position[typed["idx"]]
        # The validator refuses an id it would have to change (runtime/claims._id): the
        # table's ids stay the claims' ids, for C312 and for the person-years.
        assert (typed["claim_id"], typed["person_id"]) == (
            values.get("claim_id"), values.get("person_id")), "the validator changed an id"
        admitted[row] = True
        visit[row], scheme[row] = VISITS.index(typed["visit"]), SCHEMES.index(typed["scheme"])
        arrays["year"][row] = typed["year"]
        arrays["days"][row] = (typed["date"] - EPOCH).days
        for name, value in typed.items():
            if name in arrays and name not in ("year", "idx"):
                if not arrays[name].flags.writeable:   # a money column's own buffer
                    arrays[name] = arrays[name].copy()
                arrays[name][row] = 0 if value is None else value
    return Admitted(arrays, visit, scheme, admitted, errors, len(suspect))


EPOCH = datetime.date(1970, 1, 1)


def take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """The table's rows at ``rows`` (ascending), taken batch by batch: Arrow's take of a
    chunked column concatenates its chunks first, a copy of the whole column."""
    batches, at = [], 0
    for batch in table.to_batches():
        lo, hi = np.searchsorted(rows, [at, at + len(batch)])
        if hi > lo:
            batches.append(batch.take(pa.array(rows[lo:hi] - at)))
        at += len(batch)
    return pa.Table.from_batches(batches, schema=table.schema)


def _record(values: dict) -> dict:
    """A suspect row as the validator reads a Parquet row (formats._read_parquet)."""
    return flat_to_record({name: value for name, value in values.items() if value is not None},
                          from_text=False)


def _chunks(column) -> list[pa.Array]:
    """A column's arrays: a ChunkedArray's chunks (a Parquet file's row groups), read
    in place rather than concatenated (a copy of the whole table)."""
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def _numpy(values) -> np.ndarray:
    return (values.to_numpy() if isinstance(values, pa.ChunkedArray)
            else values.to_numpy(zero_copy_only=False))


def _present(array) -> np.ndarray:
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return _numpy(array.is_valid())


def _filled(array, value) -> np.ndarray:
    return _numpy(pc.fill_null(array, value) if array.null_count else array)


def is_text(kind: pa.DataType) -> bool:
    """A string type, or a dictionary of strings (a text column read as a dictionary)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _by_value(chunk: pa.Array, answer, missing) -> np.ndarray:
    """``answer`` (an array of strings → a NumPy array) for each row of a text chunk; a
    dictionary chunk's values are answered once and its rows take their value's answer
    by index (a NULL row: ``missing``)."""
    if not pa.types.is_dictionary(chunk.type):
        return answer(chunk)
    per_value = answer(chunk.dictionary)
    per_value = np.append(per_value, np.array([missing], dtype=per_value.dtype))
    return per_value[_filled(chunk.indices, len(per_value) - 1)]


def index_in(column, names) -> np.ndarray:
    """A text column's values as indexes into ``names`` (int8 for up to 127 names);
    -1 where a value is none of them, or missing."""
    kind = np.int8 if len(names) < 128 else np.int32

    def answer(strings: pa.Array) -> np.ndarray:
        value_set = pa.array(names, strings.type)
        return _filled(pc.index_in(strings, value_set=value_set), -1).astype(kind)

    parts = [_by_value(chunk, answer, -1) for chunk in _chunks(column)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=kind)


def money(array, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fen, exact, present) for a money column: ``exact`` where a present value is plain
    money the SQL admits (0 ≤ amount < 10^12 yuan, at most two places, exactly).  Each
    chunk is converted into its place in the three arrays; a column of fen read into
    one buffer (parquet_claims.read_parquet's), every value plain money, is its own ``fen``
    (read-only: no copy, no fresh memory)."""
    whole = _one_buffer(array) if array is not None else None
    if whole is not None:
        exact = (whole >= 0) & (whole < MONEY_BOUND)
        if exact.all():
            return whole, exact, np.ones(count, dtype=bool)
    fen = np.zeros(count, dtype=np.int64)
    exact = np.zeros(count, dtype=bool)
    if array is None:
        return fen, exact, exact.copy()
    present = _present(array)
    at = 0
    for chunk in _chunks(array):
        size = len(chunk)
        fen[at:at + size], exact[at:at + size] = _money_chunk(chunk, size)
        at += size
    return fen, exact, present


def _one_buffer(array) -> np.ndarray | None:
    """A decimal64 column of scale 2 (unscaled: fen) with no null whose chunks lie end to
    end in one buffer, as one read-only int64 view of it; else None."""
    chunks = _chunks(array)
    if not chunks or any(not pa.types.is_decimal64(chunk.type) or chunk.type.scale != 2
                         or chunk.null_count for chunk in chunks):
        return None
    if any(chunk.buffers()[1] is None for chunk in chunks):
        return None
    start = end = chunks[0].buffers()[1].address + chunks[0].offset * 8
    for chunk in chunks:
        if chunk.buffers()[1].address + chunk.offset * 8 != end:
            return None
        end += len(chunk) * 8
    # the view keeps the column alive, and with it the memory its chunks share
    return np.frombuffer(pa.foreign_buffer(start, end - start, base=array), dtype=np.int64)


def _money_chunk(array: pa.Array, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(fen, exact) of one chunk of a money column."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        plain = _filled(pc.match_substring_regex(array, PLAIN_MONEY), False)
        text = pc.if_else(pa.array(plain), array, pa.scalar(None, kind))
        array, kind = pc.cast(text, pa.decimal128(18, 2)), pa.decimal128(18, 2)
    if pa.types.is_decimal128(kind) and kind.scale <= 2:
        words = np.frombuffer(array.buffers()[1], dtype=np.int64).reshape(-1, 2)[
            array.offset:array.offset + count]
        low, high = words[:, 0], words[:, 1]
        scale = 10 ** (2 - kind.scale)
        # the converted column's own validity: text that is not plain money is NULL now
        exact = _present(array) & (high == (low >> 63)) & (low >= 0) & (
            low < MONEY_BOUND // scale)
        return np.where(exact, low * scale, 0), exact
    if pa.types.is_decimal64(kind) and kind.scale <= 2:
        # parquet_claims.read_parquet's money columns: the unscaled int64 as the file stores it
        low = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset:array.offset + count]
        scale = 10 ** (2 - kind.scale)
        exact = _present(array) & (low >= 0) & (low < MONEY_BOUND // scale)
        return (np.where(exact, low * scale, 0) if scale > 1 or not exact.all() else low), exact
    if pa.types.is_integer(kind):
        values = _filled(array, 0)
        exact = _present(array) & (values >= 0) & (values < MONEY_BOUND // 100)
        return np.where(exact, values.astype(np.int64) * 100, 0), exact
    # a float, a decimal of more places, anything else: the validator reads it
    return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=bool)


def _safe_ids(array: pa.Array) -> np.ndarray:
    """admission._text_ok for each string of one chunk: present, not empty, short, of the
    safe repertoire."""
    count = len(array)
    ok = _present(array)
    # Most ids are printable ASCII but the space ("!" to "~"), the repertoire's first
    # range: their bytes are tested at once, and the regular expression (≈ 0.1 s a
    # column at 10^6 claims) reads only the ids holding another byte.
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if pa.types.is_large_string(
        array.type) else np.int32)[array.offset:array.offset + count + 1]
    buffer = array.buffers()[2]
    data = (np.frombuffer(buffer, dtype=np.uint8)[offsets[0]:offsets[-1]]
            if buffer is not None else np.zeros(0, dtype=np.uint8))
    other = np.flatnonzero((data < 0x21) | (data > 0x7E)) + offsets[0]
    rows = np.unique(np.searchsorted(offsets, other, side="right") - 1)
    length = np.diff(offsets)   # bytes: characters, for the ASCII ids
    safe = ok & (length > 0) & (length <= SAFE_TEXT)
    if len(rows):
        some = array.take(pa.array(rows))
        characters = _filled(pc.utf8_length(some), 0)
        unsafe = _filled(pc.match_substring_regex(some, UNSAFE_ID_CHARACTER), True)
        safe[rows] = ok[rows] & (characters > 0) & (characters <= SAFE_TEXT) & ~unsafe
    return safe


def years(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day since 1970.  NumPy's datetime conversion costs
    ≈ 80 ms at 10^6 days; the few distinct days of a claims file are converted once
    each and looked up."""
    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = int(days.min()), int(days.max())
    if last - first >= 1 << 20:   # a span of millennia (hostile dates): convert each
        return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    each = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[Y]")
    return (each.astype(np.int64) + 1970)[days - first]


def _entries(chunk, names) -> tuple[np.ndarray, np.ndarray]:
    """A list chunk's entries as indexes into ``names`` (index_in), and the row of each.
    With no null list the entries lie between the chunk's first and last offsets and a
    row's count is its offsets' difference: the rows are spread from those (Arrow's
    list_parent_indices builds them one by one, ≈ 10 ms at 10^6 claims)."""
    if chunk.null_count:   # a null list may still span entries: Arrow's own kernels
        return (index_in(pc.list_flatten(chunk), names),
                pc.list_parent_indices(chunk).to_numpy().astype(np.int64))
    offsets = chunk.offsets.to_numpy()
    first, last = int(offsets[0]), int(offsets[-1])
    entries = index_in(chunk.values.slice(first, last - first), names)
    return entries, np.repeat(np.arange(len(chunk), dtype=np.int64), np.diff(offsets))


class _Checks:
    """The masks of one table, each worked out once."""

    def __init__(self, columns: ClaimColumns, table: pa.Table, side=None):
        self.columns = columns
        self.table = table
        self.count = len(table)
        self.names = set(table.column_names)
        # the identities' lists checked on the side thread from now, if there is one
        self._identities = side.submit(self.identities) if side is not None else None

    def column(self, name: str):
        """The column as read (a ChunkedArray: its chunks are never concatenated)."""
        return self.table.column(name) if name in self.names else None

    # ---- the masks ----------------------------------------------------------------------
    def clean(self) -> np.ndarray:
        columns, count = self.columns, self.count
        # a known visit and scheme: present text among dsl.model's (the version's own
        # schemes are asked in version_checks)
        self.visit, self.scheme = self.codes("visit", VISITS), self.codes("scheme", SCHEMES)
        ok = (self.visit >= 0) & (self.scheme >= 0)
        for name in ("claim_id", "person_id"):
            ok &= self.safe_id(name)
        self.days, dated = self.dates()
        ok &= dated
        self.version = np.full(count, -1, dtype=np.int32)
        for v, policy in enumerate(columns.versions):
            effective = np.datetime64(policy.effective, "D").astype(np.int64)
            self.version[self.days >= effective] = v
        ok &= self.version >= 0
        self.total, exact, _ = money(self.column("total_cost"), count)
        ok &= exact
        self.in_scope, exact, _ = money(self.column("in_scope_cost"), count)
        ok &= exact & (self.in_scope <= self.total)
        self.up = []
        for line in columns.upstream:
            fen, exact, present = money(self.column(f"paid.{line}"), count)
            self.up.append((fen, exact, present))
        ok &= self.keys()
        self.fields = [self.field(name) for name in columns.fields]
        # the identities last: the version checks read them, and the side thread has had
        # the others' time to check them
        self.has, held_ok = (self._identities.result() if self._identities is not None
                             else self.identities())
        ok &= held_ok
        for v, policy in enumerate(columns.versions):
            ok &= (self.version != v) | self.version_checks(policy)
        return ok

    def text(self, name: str):
        """A text column (the SQL reads no other type as text), or None."""
        array = self.column(name)
        return array if array is not None and is_text(array.type) else None

    def codes(self, name: str, names: tuple[str, ...]) -> np.ndarray:
        """A text column as int8 indexes into ``names``; -1 where it is none of them (or
        missing, or not text)."""
        array = self.text(name)
        if array is None:
            return np.full(self.count, -1, dtype=np.int8)
        return index_in(array, names)

    def safe_id(self, name: str) -> np.ndarray:
        """admission._text_ok: present, not empty, short, of the safe repertoire."""
        array = self.text(name)
        if array is None:
            return np.zeros(self.count, dtype=bool)
        parts = [_by_value(chunk, _safe_ids, False) for chunk in _chunks(array)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    def dates(self) -> tuple[np.ndarray, np.ndarray]:
        """(days since 1970, admitted): a date32 column, or ISO text that is a date."""
        array = self.column("date")
        if array is None:
            return np.zeros(self.count, dtype=np.int64), np.zeros(self.count, dtype=bool)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            # a text that is not the ISO text of the date read is no date (C302)
            text = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
            read, held = iso_dates(text)
            array = pc.if_else(pa.array(held), read, pa.scalar(None, pa.date32()))
        if not pa.types.is_date32(array.type):
            return np.zeros(self.count, dtype=np.int64), np.zeros(self.count, dtype=bool)
        return _filled(array.cast(pa.int32()), 0).astype(np.int64), _present(array)

    def identities(self) -> tuple[list[np.ndarray], np.ndarray]:
        """has_<i> for each identity, and whether the list is one the SQL admits: present,
        at most 50 entries, each a distinct known identity."""
        names = self.columns.identities
        array = self.column("identities")
        none = [np.zeros(self.count, dtype=bool) for _ in names]
        if array is None or not (pa.types.is_list(array.type)
                                 or pa.types.is_large_list(array.type)):
            return none, np.zeros(self.count, dtype=bool)
        element = array.type.value_type
        if pa.types.is_dictionary(element):
            element = element.value_type
        if not pa.types.is_string(element):
            return none, np.zeros(self.count, dtype=bool)
        present = _present(array)
        lengths = _filled(pc.list_value_length(array), 0)
        held = np.zeros((len(names), self.count), dtype=bool)
        at = 0
        for chunk in _chunks(array):
            # each entry as the index of its name (-1: unknown), put in a row per name at
            # once; the dictionary of a list read as one is asked once
            entries, parents = _entries(chunk, names)
            parents += at
            named = entries >= 0
            held.reshape(-1)[entries[named].astype(np.int64) * self.count + parents[named]] = True
            at += len(chunk)
        known = np.zeros(self.count, dtype=np.int64 if len(names) > 255 else np.uint8)
        for row in held:   # each name held or not: distinct known names, row by row
            known += row
        ok = present & (lengths <= MAX_IDENTITIES_PER_CLAIM) & (lengths == known)
        return list(held), ok

    def keys(self) -> np.ndarray:
        """No value in a column the claims of this policy do not have (the SQL's keys_ok and
        paid_ok)."""
        columns = self.columns
        known = set(REQUIRED) | set(OPTIONAL) | set(columns.fields) | {
            f"paid.{line}" for line in columns.upstream}
        ok = np.ones(self.count, dtype=bool)
        for name in self.names - known:
            ok &= ~_present(self.column(name))
        return ok

    def field(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(value, admitted, present) of a declared field: bool, count or money."""
        kind = self.columns.field_types()[name].type
        array = self.column(name)
        count = self.count
        if array is None:
            none = np.zeros(count, dtype=bool)
            return np.zeros(count, dtype=np.int64), ~none, none
        present = _present(array)
        if kind == "money":
            fen, exact, _ = money(array, count)
            return fen, exact | ~present, present
        if kind == "bool":
            if pa.types.is_boolean(array.type):
                return _filled(array, False), np.ones(count, dtype=bool), present
            return np.zeros(count, dtype=bool), ~present, present
        if pa.types.is_integer(array.type):
            values = _filled(array, 0)
            if not len(values) or (values.min() >= 0 and values.max() <= MAX_COUNT):
                # every count within bounds (the usual file): two reductions, no masks
                return values.astype(np.int64, copy=False), np.ones(count, dtype=bool), present
            within = (values >= 0) & (values <= MAX_COUNT)
            return (np.where(within, values, 0).astype(np.int64), within | ~present, present)
        return np.zeros(count, dtype=np.int64), ~present, present

    def version_checks(self, policy) -> np.ndarray:
        """admission._version_checks for the rows of one version."""
        columns = self.columns
        # one lookup a claim by its scheme's code (np.isin compares with each scheme);
        # the slot after the last answers -1, a scheme not known
        known_schemes = np.zeros(len(SCHEMES) + 1, dtype=bool)
        known_schemes[[code for code, scheme in enumerate(SCHEMES)
                       if scheme in policy.schemes]] = True
        ok = known_schemes[self.scheme]
        known = {identity.name for identity in policy.identities}
        for name, held in zip(columns.identities, self.has):
            if name not in known:
                ok &= ~held
        upstream = [line.name for line in policy.upstream_lines]
        for line, (_, exact, present) in zip(columns.upstream, self.up):
            ok &= exact if line in upstream else ~present
        declared = {field.name for field in policy.fields}
        for name, (_, admitted, present) in zip(columns.fields, self.fields):
            ok &= admitted if name in declared else ~present
        return ok & self.upstream_bounds(policy)

    def upstream_bounds(self, policy) -> np.ndarray:
        """runtime/claims.check_upstream_bounds as admission._upstream_bounds asks it, but
        under conditional bases the least bound of every branch (a stricter test)."""
        columns = self.columns
        amount = {line: fen for line, (fen, _, _) in zip(columns.upstream, self.up)}
        start = {"in_scope_cost": self.in_scope, "total_cost": self.total}
        ok = np.ones(self.count, dtype=bool)
        earlier: list[str] = []
        for line in policy.lines:
            if not line.upstream:
                earlier.append(line.name)
                continue

            def bound(terms):
                if terms is None:   # unspecified: paid anything, the validator refuses (C311)
                    return np.zeros(self.count, dtype=np.int64)
                if not terms:
                    terms = ("in_scope_cost", *earlier)
                first, *minus = terms
                limit = start[first]
                for term in minus:
                    if term in amount:   # a fresh array at the first, then in place
                        limit = (np.subtract(limit, amount[term], out=limit)
                                 if limit is not start[first] else limit - amount[term])
                return np.maximum(limit, 0, out=limit if limit is not start[first] else None)

            limit = bound(line.base_terms)
            for _, terms, _ in line.conditional_bases:
                limit = np.minimum(limit, bound(terms), out=limit)
            ok &= amount[line.name] <= limit
            if line.members is not None:
                held = np.zeros(self.count, dtype=bool)
                for identity in policy.identities:
                    if (identity.name in line.members
                            or policy.effective_identity(identity.name) in line.members):
                        held |= self.has[columns.identities.index(identity.name)]
                ok &= (amount[line.name] == 0) | held
            earlier.append(line.name)
        return ok

    # ---- the admitted rows' values ----------------------------------------------------
    def engine_arrays(self) -> dict[str, np.ndarray]:
        """Every row's typed values as admission.typed_row gives them, NULL as 0 or false
        (the engine's COALESCE), a declared field's default where it is absent."""
        columns = self.columns
        days = self.days
        arrays = {"version": self.version, "days": days, "year": years(days),
                  "total_fen": self.total, "in_scope_fen": self.in_scope}
        for i, (fen, _, _) in enumerate(self.up):
            arrays[f"up_{i}"] = fen
        kinds = columns.field_types()
        for i, name in enumerate(columns.fields):
            value, _, present = self.fields[i]
            for v, policy in enumerate(columns.versions):
                declared = policy.field(name)
                if declared is not None and declared.default is not None:
                    value = np.where((self.version == v) & ~present, declared.default, value)
            arrays[f"fld_{i}"] = value.astype(bool if kinds[name].type == "bool" else np.int64,
                                              copy=False)
        for i, held in enumerate(self.has):
            arrays[f"has_{i}"] = held
        return arrays
