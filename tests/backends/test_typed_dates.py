"""Date texts read as dates only when they are the ISO text of the date read
(backends/typed_dates.py): the test of the bytes is the pattern's, value for value."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from yibao.backends.admission import ISO_DATE
from yibao.backends.typed_dates import iso_dates, iso_shaped

TEXTS = ["2023-03-02", "2023-3-02", "2023-03-2", "２０２３-03-02", "2023/03/02", "2023-03-02 ",
         " 2023-03-02", "2023-03-02\n", "20230-3-02", "2023--3-02", "2023-0a-02", "", "2023-03-0２",
         "2023-13-45", "0000-00-00", "9999-99-99", "2023-03-02x", "2023-03", "2023-03-02-"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_bytes_test_is_the_pattern(text):
    """One value among good ones: the test says what ISO_DATE says of it (a full-width
    digit, a space or a newline is no digit; 2023-13-45 has the shape, the cast judges it)."""
    values = pa.array(["2024-12-31", text, "2023-01-01"])
    expected = all(re.fullmatch(ISO_DATE.strip("^$"), value, re.ASCII) for value in
                   values.to_pylist())
    assert iso_shaped(values) is expected
    assert iso_shaped(pa.chunked_array([values[:1], values[1:]])) is expected


def test_slices_nulls_and_other_types():
    """A slice is tested on its own values, not the buffer around it; a null or a large
    string leaves the answer to the pattern (None)."""
    values = pa.array(["bad", "2023-03-02", "2023-03-03", "worse"])
    assert iso_shaped(values) is False
    assert iso_shaped(values.slice(1, 2)) is True
    assert iso_shaped(values.slice(1, 0)) is True
    assert iso_shaped(pa.array(["2023-03-02", None])) is None
    assert iso_shaped(pa.array(["2023-03-02"], pa.large_string())) is None


def test_dates_are_read_exactly_either_way():
    """The shape alone admits nothing: 2023-02-30 has it, and is held by neither the cast
    nor the round trip (the validator refuses it, C302); 2023-3-2 lacks it and is not
    held either; a null stays a null, held (the validator judges a missing date)."""
    dates, held = iso_dates(pa.array(["2023-03-02", "2023-02-30", "2023-3-2", None]))
    assert held.tolist() == [True, False, False, True]
    assert dates[0].as_py().isoformat() == "2023-03-02"
    dates, held = iso_dates(pa.array(["2023-03-02", "2024-02-29"]))
    assert held.tolist() == [True, True]
    assert [d.isoformat() for d in dates.to_pylist()] == ["2023-03-02", "2024-02-29"]
