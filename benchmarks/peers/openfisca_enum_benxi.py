"""Benxi 2023 基本救助 and 倾斜救助 (§(五)) in OpenFisca, the way its documentation teaches.

OpenFisca's guide, "Computing a parameter that depends on a variable (fancy
indexing)": the variable a parameter depends on is an ``Enum`` variable
(here the claim's identity), the parameter node holds one homogeneous child per
member of the enum (``benxi.basic.by_identity.<member>.deductible``, ``rate``,
``cap``), and a formula reads ``parameters(period).benxi.basic.by_identity[identity]``:
a vectorial node whose leaves hold each claim's value.  Conditions are ``where``
("use helpers where and select when they are relevant").

The documentation teaches no idiom for a year-to-date sum; the running sum per
person-year is the project's other OpenFisca peer's (openfisca_benxi._running).
A claim with no identity of §(五) is the enum's ``none`` member, whose parameters
pay nothing (the children of an indexed node must cover every member).
``float`` variables are float32, as OpenFisca stores them: the benchmark reports
the fen the results differ by.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from benchmarks.peers.claims import BASIC, IDENTITIES, TILT, ClaimArrays
from benchmarks.peers.openfisca_benxi import INPUTS, PERIOD, Claim, _running

NO_CAP = 1e12


class Identity(Enum):
    none = "无救助身份"
    tekun = "特困人员"
    guer = "孤儿"
    dibao = "低保对象"
    dibao_edge = "低保边缘家庭成员"
    illness = "因病致贫重病患者"


MEMBERS = ("tekun", "guer", "dibao", "dibao_edge", "illness")   # IDENTITIES, in order


def _value(number) -> dict:
    return {"values": {"2023-01-01": float(NO_CAP if number is None else number)}}


def _by_identity(rule: dict) -> dict:
    node = {"none": {"deductible": _value(0), "rate": _value(0), "cap": _value(0)}}
    for member, name in zip(MEMBERS, IDENTITIES):
        deductible, rate, cap = rule[name]
        node[member] = {"deductible": _value(deductible), "rate": _value(rate),
                        "cap": _value(cap)}
    return {"by_identity": node}


PARAMETERS = {"benxi": {"basic": _by_identity(BASIC), "tilt": _by_identity(TILT)}}


class identity(Variable):
    value_type = Enum
    possible_values = Identity
    default_value = Identity.none
    entity = Claim
    definition_period = DateUnit.YEAR
    label = "救助身份"


def _assistance(claims, period, parameters, line: str, base_variable: str):
    rule = getattr(parameters(period).benxi, line).by_identity[claims("identity", period)]
    base = claims(base_variable, period)
    after = _running(claims("person_year", period), claims("claim_order", period), base)
    before = after - base
    paid = lambda c: np.minimum(rule.cap, np.round(  # noqa: E731
        np.maximum(c - rule.deductible, 0) * rule.rate, 2))
    return paid(after) - paid(before)


class basic_base(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "基本救助计算基数"

    def formula(claims, period, parameters):
        eligible = claims("covered", period) * (claims("identity", period) != Identity.none)
        return np.where(eligible, np.maximum(claims("burden", period), 0), 0)


class basic_assistance(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "基本救助"

    def formula(claims, period, parameters):
        return _assistance(claims, period, parameters, "basic", "basic_base")


class tilt_base(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "倾斜救助计算基数"

    def formula(claims, period, parameters):
        eligible = claims("covered", period) * (claims("identity", period) != Identity.none)
        left = claims("burden", period) - claims("basic_assistance", period)
        return np.where(eligible, np.maximum(left, 0), 0)


class tilt_assistance(Variable):
    value_type, entity, definition_period, label = float, Claim, DateUnit.YEAR, "倾斜救助"

    def formula(claims, period, parameters):
        return _assistance(claims, period, parameters, "tilt", "tilt_base")


def tax_benefit_system() -> TaxBenefitSystem:
    system = TaxBenefitSystem([Claim])
    inputs = [variable for variable in INPUTS if variable.__name__ != "identity"]
    system.add_variables(*inputs, identity, basic_base, basic_assistance, tilt_base,
                         tilt_assistance)
    system.parameters = ParameterNode("", data=PARAMETERS)
    return system


def settle(system: TaxBenefitSystem, claims: ClaimArrays) -> tuple[np.ndarray, np.ndarray]:
    """(基本救助, 倾斜救助) per claim, in yuan as OpenFisca computes them."""
    simulation = SimulationBuilder().build_default_simulation(system, count=len(claims.index))
    simulation.set_input("person_year", PERIOD,
                         np.unique(claims.person_year, return_inverse=True)[1].astype(np.int32))
    simulation.set_input("claim_order", PERIOD, np.argsort(np.argsort(claims.order)).astype(np.int32))
    # the enum's index: none is 0, the identities of IDENTITIES follow in order
    simulation.set_input("identity", PERIOD, (claims.identity.astype(np.int16) + 1))
    simulation.set_input("covered", PERIOD, claims.covered)
    simulation.set_input("burden", PERIOD, claims.burden)
    return (simulation.calculate("basic_assistance", PERIOD),
            simulation.calculate("tilt_assistance", PERIOD))
