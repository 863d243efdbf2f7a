"""Benxi 2023 基本救助 and 倾斜救助 (§(五)) as an OpenFisca tax-benefit system.

Written as an OpenFisca modeller would: an entity per claim, parameters in
OpenFisca's parameter tree, one variable per step, numpy in the formulas
(year-to-date as a grouped running sum, rounding with ``numpy.round``).
OpenFisca stores ``float`` variables as float32: the benchmark reports the
mismatches that follow.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from benchmarks.peers.claims import BASIC, IDENTITIES, TILT, ClaimArrays

PERIOD = "2023"
KEYS = ("tekun", "guer", "dibao", "dibao_edge", "illness")   # IDENTITIES, in order
NO_CAP = 1e12

Claim = build_entity(key="claim", plural="claims", label="一次结算", is_person=True)


def _table(rule: dict, index: int) -> dict:
    values = {}
    for key, name in zip(KEYS, IDENTITIES):
        value = rule[name][index]
        values[key] = {"values": {"2023-01-01": float(NO_CAP if value is None else value)}}
    return values


PARAMETERS = {"benxi": {line: {what: _table(rule, i)
                               for i, what in enumerate(("deductible", "rate", "cap"))}
                        for line, rule in (("basic", BASIC), ("tilt", TILT))}}


def _input(name: str, kind, label: str):
    return type(name, (Variable,), {"value_type": kind, "entity": Claim, "label": label,
                                    "definition_period": DateUnit.YEAR})


INPUTS = [_input("person_year", int, "参保人年度"), _input("claim_order", int, "结算顺序"),
          _input("identity", int, "救助身份"), _input("covered", bool, "救助范围内"),
          _input("burden", float, "政策范围内个人负担")]


def _running(groups, order, values):
    """Year-to-date: the running sum of ``values`` within each person-year, in date order."""
    perm = np.lexsort((order, groups))
    sorted_values = values[perm]
    totals = np.cumsum(sorted_values)
    sorted_groups = groups[perm]
    starts = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    offset = np.maximum.accumulate(np.where(starts, totals - sorted_values, 0))
    result = np.empty_like(totals)
    result[perm] = totals - offset
    return result


def _line_payout(claims, period, parameters, line: str, base_variable: str):
    params = getattr(parameters(period).benxi, line)
    identity = np.maximum(claims("identity", period), 0)

    def by_identity(what):
        node = getattr(params, what)
        return np.array([getattr(node, key) for key in KEYS])[identity]

    deductible, rate, cap = by_identity("deductible"), by_identity("rate"), by_identity("cap")
    base = claims(base_variable, period)
    after = _running(claims("person_year", period), claims("claim_order", period), base)
    before = after - base
    paid = lambda c: np.minimum(cap, np.round(np.maximum(c - deductible, 0) * rate, 2))  # noqa
    return paid(after) - paid(before)


class basic_base(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "基本救助计算基数"

    def formula(claims, period, parameters):
        eligible = claims("covered", period) & (claims("identity", period) >= 0)
        return np.where(eligible, np.maximum(claims("burden", period), 0), 0)


class basic_assistance(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "基本救助"

    def formula(claims, period, parameters):
        return _line_payout(claims, period, parameters, "basic", "basic_base")


class tilt_base(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "倾斜救助计算基数"

    def formula(claims, period, parameters):
        eligible = claims("covered", period) & (claims("identity", period) >= 0)
        left = claims("burden", period) - claims("basic_assistance", period)
        return np.where(eligible, np.maximum(left, 0), 0)


class tilt_assistance(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "倾斜救助"

    def formula(claims, period, parameters):
        return _line_payout(claims, period, parameters, "tilt", "tilt_base")


def tax_benefit_system() -> TaxBenefitSystem:
    system = TaxBenefitSystem([Claim])
    system.add_variables(*INPUTS, basic_base, basic_assistance, tilt_base, tilt_assistance)
    system.parameters = ParameterNode("", data=PARAMETERS)
    return system


def settle(system: TaxBenefitSystem, claims: ClaimArrays) -> tuple[np.ndarray, np.ndarray]:
    """(基本救助, 倾斜救助) per claim, in yuan as OpenFisca computes them."""
    simulation = SimulationBuilder().build_default_simulation(system, count=len(claims.index))
    # OpenFisca integers are int32: dense ranks keep the groups and the order.
    simulation.set_input("person_year", PERIOD,
                         np.unique(claims.person_year, return_inverse=True)[1].astype(np.int32))
    simulation.set_input("claim_order", PERIOD, np.argsort(np.argsort(claims.order)).astype(np.int32))
    simulation.set_input("identity", PERIOD, claims.identity.astype(np.int32))
    simulation.set_input("covered", PERIOD, claims.covered)
    simulation.set_input("burden", PERIOD, claims.burden)
    return (simulation.calculate("basic_assistance", PERIOD),
            simulation.calculate("tilt_assistance", PERIOD))
