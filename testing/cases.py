"""Case files: claims with the payouts, alerts and referrals a notice gives them.

In the spirit of OpenFisca's YAML tests, a policy team keeps its hand-worked
examples as data next to the policies (``policies/cases/NAME.yaml``)::

    policy: benxi-2023                 # settles under policies/benxi-2023.policy
    defaults: {scheme: 居民医保, visit: 住院}
    cases:
      - name: 低保边缘家庭成员 reaches the 2万 cap over three claims
        source: §(五); docs/specification.md §6     # where the figures come from
        claims:
          - {claim_id: a, person_id: p, date: 2023-01-10, identities: [低保边缘家庭成员],
             total_cost: 25000, in_scope_cost: 25000, paid: {基本医保: 8000, 大病保险: 2000}}
        expect:
          a: {payouts: {基本救助: 7800.00, 倾斜救助: 2520.00}, alerts: [因病返贫风险]}

Each case is one batch (its claims share year-to-date figures; cases do not).
An expectation checks only what it names: ``payouts`` (by line), ``total_paid``,
``personal_burden``, ``identity``, ``policy`` (the version that settled it),
``alerts`` and ``referrals`` (exact lists), or ``error`` (a refusal's code).
A file whose policy cannot be evaluated states ``refused: {code, mentions}``
instead of cases.  Problems in the file itself are :class:`CaseFileError`s
with the file and line.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import attrs
import yaml

from yibao.testing.exact_yaml import load_exact, plain

FILE_KEYS = {"policy", "description", "defaults", "cases", "refused"}
CASE_KEYS = {"name", "source", "defaults", "claims", "expect"}
EXPECT_KEYS = {"payouts", "total_paid", "personal_burden", "identity", "policy", "alerts",
               "referrals", "error"}
MONEY_KEYS = ("total_paid", "personal_burden")


class CaseFileError(Exception):
    def __init__(self, path: str, line: int, message: str, hint: str = ""):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message, self.hint = path, line, message, hint

    def render(self) -> str:
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{self.path}:{self.line}: {self.message}{hint}"


@attrs.frozen
class Expectation:
    claim_id: str
    line: int
    payouts: tuple[tuple[str, Decimal], ...] = ()
    money: tuple[tuple[str, Decimal], ...] = ()      # total_paid, personal_burden
    identity: str | None = None
    policy: str | None = None
    alerts: tuple[str, ...] | None = None
    referrals: tuple[str, ...] | None = None
    error: str | None = None


@attrs.frozen
class Case:
    name: str
    line: int
    source: str
    claims: tuple[tuple[int, dict], ...]               # (line in the case file, claim record)
    expectations: tuple[Expectation, ...]


@attrs.frozen
class Refusal:
    code: str
    mentions: tuple[str, ...]
    line: int


@attrs.frozen
class CaseFile:
    path: str
    policy: str
    description: str
    cases: tuple[Case, ...]
    refused: Refusal | None = None


def load_case_file(path: str | pathlib.Path) -> CaseFile:
    path = str(path)
    try:
        data = load_exact(pathlib.Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise CaseFileError(path, mark.line + 1 if mark else 1, f"not valid YAML: {error}",
                            "case files are YAML: see README, 'Test cases as data'") from None
    except UnicodeDecodeError:
        raise CaseFileError(path, 1, "not UTF-8") from None
    reader = _Reader(path)
    data = reader.mapping(data, FILE_KEYS, "the case file", required=("policy",))
    defaults = reader.optional_mapping(data, "defaults")
    refused = _refusal(reader, data.get("refused"))
    if refused is None and "cases" not in data:
        raise CaseFileError(path, data.line, "no `cases:` (and no `refused:`)",
                            "list the cases: cases: [- name: …, claims: […], expect: {…}]")
    cases = tuple(_case(reader, item, defaults)
                  for item in reader.sequence(data.get("cases", []), "cases", data.line))
    return CaseFile(path, reader.text(data, "policy"), str(data.get("description", "")),
                    cases, refused)


def _refusal(reader: "_Reader", data) -> Refusal | None:
    if data is None:
        return None
    data = reader.mapping(data, {"code", "mentions"}, "refused", required=("code",))
    mentions = reader.sequence(data.get("mentions", []), "mentions", data.line)
    return Refusal(reader.text(data, "code"), tuple(str(m) for m in mentions), data.line)


def _case(reader: "_Reader", data, file_defaults: dict) -> Case:
    data = reader.mapping(data, CASE_KEYS, "a case", required=("name", "claims", "expect"))
    defaults = {**file_defaults, **reader.optional_mapping(data, "defaults")}
    claims = []
    for record in reader.sequence(data["claims"], "claims", data.line):
        record = reader.mapping(record, None, "a claim", required=("claim_id",))
        claims.append((record.line, plain({**defaults, **record})))
    ids = [str(record["claim_id"]) for _, record in claims]
    expect = reader.mapping(data["expect"], None, "expect")
    expectations = []
    for claim_id, wanted in expect.items():
        claim_id = str(claim_id)
        if claim_id not in ids:
            raise CaseFileError(reader.path, expect.line, f"expect names claim {claim_id}, "
                                "which the case does not have", "claims: " + ", ".join(ids))
        expectations.append(_expectation(reader, claim_id, wanted, expect.line))
    return Case(reader.text(data, "name"), data.line, str(data.get("source", "")),
                tuple(claims), tuple(expectations))


def _expectation(reader: "_Reader", claim_id: str, data, line: int) -> Expectation:
    data = reader.mapping(data, EXPECT_KEYS, f"the expectation of {claim_id}", line=line)
    payouts = reader.optional_mapping(data, "payouts")
    lists = {key: tuple(str(v) for v in reader.sequence(data[key], key, data.line))
             for key in ("alerts", "referrals") if key in data}
    return Expectation(
        claim_id, data.line,
        payouts=tuple((str(k), reader.money(v, f"payouts.{k}", data.line))
                      for k, v in payouts.items()),
        money=tuple((key, reader.money(data[key], key, data.line))
                    for key in MONEY_KEYS if key in data),
        identity=_optional_text(data, "identity"), policy=_optional_text(data, "policy"),
        alerts=lists.get("alerts"), referrals=lists.get("referrals"),
        error=_optional_text(data, "error"))


def _optional_text(data: dict, key: str) -> str | None:
    return None if data.get(key) is None else str(data[key])


@attrs.frozen
class _Reader:
    """Shape checks with the file and line of whatever is wrong."""

    path: str

    def mapping(self, data: Any, keys: set[str] | None, what: str, required=(),
                line: int = 1) -> dict:
        if not isinstance(data, dict):
            raise CaseFileError(self.path, getattr(data, "line", line),
                                f"{what} must be a mapping (key: value)")
        for key in data:
            if keys is not None and key not in keys:
                raise CaseFileError(self.path, data.line, f"unknown key {key!r} in {what}",
                                    "known: " + ", ".join(sorted(keys)))
        for key in required:
            if key not in data:
                raise CaseFileError(self.path, data.line, f"{what} has no {key!r}")
        return data

    def optional_mapping(self, data: dict, key: str) -> dict:
        if key not in data:
            return {}
        return self.mapping(data[key], None, key, line=data.line)

    def sequence(self, data: Any, what: str, line: int) -> list:
        if not isinstance(data, list):
            raise CaseFileError(self.path, getattr(data, "line", line), f"{what} must be a list")
        return data

    def text(self, data: dict, key: str) -> str:
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise CaseFileError(self.path, data.line, f"{key} must be a non-empty text")
        return value

    def money(self, value: Any, what: str, line: int) -> Decimal:
        if isinstance(value, str):
            try:
                value = Decimal(value)
            except ArithmeticError:
                pass
        if not isinstance(value, Decimal) or not value.is_finite():
            raise CaseFileError(self.path, line, f"{what}: {value!r} is not an amount",
                                "write amounts as 7800.00 or \"7800.00\"")
        return value
