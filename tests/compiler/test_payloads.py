"""Every op's node carries a frozen payload of plain data, never a dsl model object
(issue 23 item 1): the visitors read the payload's fields, not the dsl's classes."""

from decimal import Decimal

import attrs
import pytest

from helpers import POLICIES
from yibao.compiler.graph import Op
from yibao.compiler.lower import lower_policy
from yibao.compiler.payloads import (PAYLOAD_BY_OP, Band, CoversPayload, Looked,
                                     LookupPayload, ReferralPayload, UnspecifiedSource)
from yibao.dsl.loader import load_policy

SHIPPED = sorted(POLICIES.glob("*.policy"))


def _plain(value, where: str) -> None:
    """Walk a payload: only str, bool, int, Decimal, None, tuples, frozensets and
    yibao.compiler.payloads classes, never an object of yibao.dsl."""
    module = type(value).__module__
    assert not module.startswith("yibao.dsl"), f"{where}: {type(value).__qualname__}"
    if isinstance(value, (tuple, frozenset)):
        for item in value:
            _plain(item, where)
    elif attrs.has(type(value)):
        assert module == "yibao.compiler.payloads", f"{where}: {type(value).__qualname__}"
        for field in attrs.fields(type(value)):
            _plain(getattr(value, field.name), f"{where}.{field.name}")
    else:
        assert isinstance(value, (str, bool, int, Decimal, type(None))), \
            f"{where}: {type(value).__qualname__}"


def test_every_op_has_a_frozen_payload_class():
    assert set(PAYLOAD_BY_OP) == set(Op)
    for op, cls in PAYLOAD_BY_OP.items():
        assert attrs.has(cls), op
        # frozen: a field cannot be set after the lowering built it
        instance = cls.__new__(cls)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            instance.anything = 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_node_of_every_shipped_policy_has_a_hashable_plain_payload(path):
    checked = 0
    for version in load_policy(path).versions:
        for node in lower_policy(version).order:
            assert type(node.payload) is PAYLOAD_BY_OP[node.op], node.id
            hash(node.payload)
            _plain(node.payload, f"{version.policy_id} {node.id}")
            checked += 1
    assert checked


def _benxi():
    return lower_policy(load_policy(POLICIES / "benxi-2023.policy").latest)


def test_lookup_payload_is_the_notices_table_as_decimals():
    """Benxi §(五): 基本救助's deductible 0 for 特困人员/孤儿/低保对象, 2,000 for
    低保边缘家庭成员, 5,000 for 因病致贫重病患者."""
    payload = _benxi().node("基本救助.deductible").payload
    assert isinstance(payload, LookupPayload)
    assert (payload.line, payload.quantity) == ("基本救助", "deductible")
    assert payload.for_claim("低保边缘家庭成员", "住院") == Looked(Decimal("2000"))
    assert payload.for_claim("因病致贫重病患者", "住院") == Looked(Decimal("5000"))
    assert payload.for_claim("孤儿", "住院") == Looked(Decimal("0"))
    # 倾斜救助's cap: none (不设) for 特困人员, 2万 for 因病致贫重病患者
    cap = _benxi().node("倾斜救助.cap").payload
    assert cap.for_claim("特困人员", "住院") == Looked(None)
    assert cap.for_claim("因病致贫重病患者", "住院") == Looked(Decimal("20000"))


def test_covers_payload_holds_visits_condition_and_members():
    """Benxi §(四)/§(十三): 基本救助 covers 住院 and 门诊慢特病, when in_province or
    referred; 因病致贫重病患者 is in its tables, 脱贫人口 is not."""
    payload = _benxi().node("基本救助.covered").payload
    assert isinstance(payload, CoversPayload)
    assert payload.visits == ("住院", "门诊慢特病")
    assert payload.condition == ("any", ("field", "in_province"), ("field", "referred"))
    assert payload.covers_identity("因病致贫重病患者")
    assert not payload.covers_identity("脱贫人口")
    assert not payload.covers_identity(None)


def test_banded_rates_are_plain_bands():
    """Jiamusi 2022 pays some line by bands: each band is a plain Band of Decimals."""
    graph = lower_policy(load_policy(POLICIES / "jiamusi-2022.policy").latest)
    bands = [looked.value for node in graph.order if node.op is Op.LOOKUP
             for _, looked in node.payload.values if isinstance(looked.value, tuple)]
    assert bands and all(isinstance(band, Band) for found in bands for band in found)


def test_referral_payload_names_its_lines():
    referrals = [node.payload for path in SHIPPED
                 for node in lower_policy(load_policy(path).latest).order
                 if node.op is Op.REFERRAL]
    assert referrals and all(isinstance(p, ReferralPayload) and p.lines for p in referrals)


def test_an_unspecified_value_keeps_its_source_for_the_c311_refusal():
    """Benxi §(五) keeps 床日定额救助 but gives no amount: the payload says so, with the
    clause and the drafter's note, and no value."""
    graph = _benxi()
    [node] = [n for n in graph.order if n.op is Op.LOOKUP and n.payload.quantity == "per_unit"]
    [(_, looked)] = node.payload.values
    assert looked.value is None
    assert looked.unspecified == UnspecifiedSource("(五)", "本方案未规定床日定额标准",
                                                   "benxi-2023")
