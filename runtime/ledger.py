"""Year-to-date figures per person and calendar year (docs/specification.md §6).

The ledger is the only state of an evaluation, and it is passed in explicitly:
the graph's ops read it, and only the evaluator writes it, once per claim,
with the figures of the identity that won take highest.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

ZERO = Decimal("0.00")


@attrs.define
class LineYearToDate:
    base: Decimal = ZERO    # cumulative base C of the claims the line covered
    paid: Decimal = ZERO    # what the line paid the person this year


@attrs.define
class AlertYearToDate:
    burden: Decimal = ZERO
    fired: bool = False


@attrs.define
class PersonYear:
    lines: dict[str, LineYearToDate] = attrs.field(factory=dict)
    alerts: dict[str, AlertYearToDate] = attrs.field(factory=dict)

    def line(self, name: str) -> LineYearToDate:
        found = self.lines.get(name)
        return found if found is not None else LineYearToDate()

    def alert(self, name: str) -> AlertYearToDate:
        found = self.alerts.get(name)
        return found if found is not None else AlertYearToDate()


class Ledger:
    """Every person-year seen in a batch."""

    def __init__(self) -> None:
        self._years: dict[tuple[str, int], PersonYear] = {}

    def person_year(self, person_id: str, year: int) -> PersonYear:
        key = (person_id, year)
        found = self._years.get(key)
        if found is None:
            found = self._years[key] = PersonYear()
        return found

    def forget(self, person_id: str, year: int) -> None:
        """Drop a person-year no later claim can read (a stream in date order)."""
        self._years.pop((person_id, year), None)

    def __len__(self) -> int:
        return len(self._years)
