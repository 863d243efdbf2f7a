"""The typed claims relation every engine builds, and the names of its columns.

After admission (backends/admission.py) a claim is one row:

``idx`` (input order), ``line_number``, ``claim_id``, ``person_id``, ``date``,
``year``, ``version`` (index of the policy version in force), ``scheme``,
``visit``, ``total_fen``, ``in_scope_fen`` (money as BIGINT fen), ``up_<i>``
(the upstream payout of line i, fen), ``fld_<i>`` (declared field i, default
filled in), ``has_<i>`` (does the claim name identity i).

Lines, fields and identities are numbered over the union of the policy's
versions, by name, so that columns never depend on a version; ASCII names keep
every dialect happy with Chinese line names.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from yibao.dsl.model import BandSchedule, FieldDef, Policy


def _union(groups) -> tuple[str, ...]:
    names: list[str] = []
    for group in groups:
        for name in group:
            if name not in names:
                names.append(name)
    return tuple(names)


@attrs.frozen
class ClaimColumns:
    versions: tuple[Policy, ...]
    upstream: tuple[str, ...]
    computed: tuple[str, ...]
    fields: tuple[str, ...]
    identities: tuple[str, ...]
    alerts: tuple[str, ...]
    referrals: tuple[str, ...]

    @classmethod
    def of(cls, versions: tuple[Policy, ...]) -> "ClaimColumns":
        return cls(
            versions=versions,
            upstream=_union([l.name for l in v.upstream_lines] for v in versions),
            computed=_union([l.name for l in v.computed_lines] for v in versions),
            fields=_union([f.name for f in v.fields] for v in versions),
            identities=_union([i.name for i in v.identities] for v in versions),
            alerts=_union([a.name for a in v.alerts] for v in versions),
            referrals=_union([r.name for r in v.referrals] for v in versions),
        )

    # ---- claim columns --------------------------------------------------------------
    def upstream_column(self, line: str) -> str:
        return f"up_{self.upstream.index(line)}"

    def field_column(self, name: str) -> str:
        return f"fld_{self.fields.index(name)}"

    def has_column(self, identity: str) -> str:
        return f"has_{self.identities.index(identity)}"

    def threshold_column(self, alert: str) -> str:
        """The claim's threshold for an alert, worked out before settlement
        (backends/prepare.py)."""
        return f"thr_{self.alerts.index(alert)}"

    def field_types(self) -> dict[str, FieldDef]:
        found: dict[str, FieldDef] = {}
        for version in self.versions:
            for field in version.fields:
                found.setdefault(field.name, field)
        return found

    # ---- settled columns (the winner's figures per line) -------------------------------
    def line_index(self, line: str) -> int:
        return self.computed.index(line)

    def settled(self, what: str, line: str) -> str:
        """cov / base / slice / pay (before the ceiling) / fin (final) of a computed line."""
        return f"{what}_{self.line_index(line)}"

    def final_upstream(self, line: str) -> str:
        return f"fin_up_{self.upstream.index(line)}"

    def settled_columns(self) -> list[str]:
        names = ["cand"]
        for index in range(len(self.computed)):
            names += [f"{what}_{index}" for what in ("cov", "base", "slice", "pay", "fin")]
        names += [f"fin_up_{index}" for index in range(len(self.upstream))]
        return names

    def state(self, what: str, line: str) -> str:
        """s_c (cumulative base) or s_p (cumulative payout) after this claim."""
        return f"{what}_{self.line_index(line)}"

    @property
    def multi_version(self) -> bool:
        return len(self.versions) > 1


def fen(amount: Decimal) -> int:
    """Exact money → integer fen; a parameter finer than a fen is refused, never rounded."""
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(scaled)


@attrs.frozen
class ExactRate:
    """A rate, or marginal rates by band, as integers: G(above) = numerator(above) / denominator."""

    denominator: int
    bands: tuple[tuple[int, int | None, int], ...]   # (lower fen, upper fen or None, numerator)

    @classmethod
    def of(cls, rate: Decimal | BandSchedule) -> "ExactRate":
        # bands as the graph's payload holds them (compiler/payloads.Band tuples), or
        # as the dsl writes them
        if isinstance(rate, tuple):
            pieces = list(rate)
        elif isinstance(rate, BandSchedule):
            pieces = [(s.lower, s.upper, s.rate) for s in rate.slices]
        else:
            pieces = [(Decimal(0), None, rate)]
        ratios = [r.as_integer_ratio() for _, _, r in pieces]
        denominator = 1
        for _, d in ratios:
            denominator = denominator * d // _gcd(denominator, d)
        bands = tuple(
            (fen(lower), None if upper is None else fen(upper), n * (denominator // d))
            for (lower, upper, _), (n, d) in zip(pieces, ratios))
        return cls(denominator, bands)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
