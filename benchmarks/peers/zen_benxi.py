"""Benxi 2023 基本救助 and 倾斜救助 (§(五)) as a GoRules ZEN decision graph (JDM).

A decision table gives each identity's deductible, rate and cap; an expression
node computes both lines' year-to-date slices, each limited to what is left of
its cap.  A JDM graph sees one claim at a time, so the caller keeps the
year-to-date figures per person and year and passes them in, in date order.
ZEN's numbers are decimals and its ``round`` rounds half away from zero.
"""

from __future__ import annotations

import json

import numpy as np

from benchmarks.peers.claims import BASIC, IDENTITIES, TILT, ClaimArrays


def _rules() -> list[dict]:
    rules = []
    for index, name in enumerate(IDENTITIES):
        row = {"_id": f"r{index}", "i1": str(index)}
        for prefix, rule in (("b", BASIC[name]), ("t", TILT[name])):
            deductible, rate, cap = rule
            row.update({f"{prefix}d": str(deductible), f"{prefix}r": rate,
                        f"{prefix}c": "null" if cap is None else str(cap)})
        rules.append(row)
    return rules


def _line(prefix: str, line: str, base: str) -> list[dict]:
    g = f"round(max([0, {{c}} - {line}.deductible]) * {line}.rate, 2)"
    return [
        {"id": f"{prefix}1", "key": f"{prefix}_after", "value": g.format(c=f"{line}_ytd + {base}")},
        {"id": f"{prefix}2", "key": f"{prefix}_before", "value": g.format(c=f"{line}_ytd")},
        {"id": f"{prefix}3", "key": f"{prefix}_slice", "value":
            f"covered ? $.{prefix}_after - $.{prefix}_before : 0"},
        {"id": f"{prefix}4", "key": line, "value":
            f"{line}.cap == null ? $.{prefix}_slice : "
            f"max([0, min([$.{prefix}_slice, {line}.cap - {line}_paid])])"},
    ]


def decision_graph() -> dict:
    outputs = [{"id": f"{p}{w}", "name": f"{p}{w}", "field": f"{line}.{field}"}
               for p, line in (("b", "basic"), ("t", "tilt"))
               for w, field in (("d", "deductible"), ("r", "rate"), ("c", "cap"))]
    node = {"position": {"x": 0, "y": 0}}
    expressions = _line("b", "basic", "burden") + [
        {"id": "tb", "key": "tilt_base", "value": "covered ? max([0, burden - $.basic]) : 0"}
    ] + _line("t", "tilt", "$.tilt_base")
    return {"nodes": [
        {"id": "claim", "type": "inputNode", "name": "claim", **node},
        {"id": "params", "type": "decisionTableNode", "name": "§(五) by identity", **node,
         "content": {"hitPolicy": "first", "passThrough": True, "inputField": None,
                     "outputPath": None, "executionMode": "single",
                     "inputs": [{"id": "i1", "name": "identity", "field": "identity"}],
                     "outputs": outputs, "rules": _rules()}},
        {"id": "payouts", "type": "expressionNode", "name": "year to date", **node,
         "content": {"passThrough": True, "inputField": None, "outputPath": None,
                     "executionMode": "single", "expressions": expressions}},
        {"id": "result", "type": "outputNode", "name": "result", **node}],
        "edges": [{"id": f"e{i}", "sourceId": a, "targetId": b, "type": "edge"}
                  for i, (a, b) in enumerate((("claim", "params"), ("params", "payouts"),
                                              ("payouts", "result")))]}


def settle(claims: ClaimArrays) -> tuple[np.ndarray, np.ndarray]:
    """(基本救助, 倾斜救助) per claim, in yuan, claim by claim in date order."""
    import zen

    decision = zen.ZenEngine().create_decision(json.dumps(decision_graph()))
    count = len(claims.index)
    basic, tilt = np.zeros(count), np.zeros(count)
    ledger: dict[int, list[float]] = {}
    for position in np.lexsort((claims.order, claims.person_year)):
        if claims.identity[position] < 0:
            continue
        state = ledger.setdefault(int(claims.person_year[position]), [0.0, 0.0, 0.0, 0.0])
        result = decision.evaluate({
            "identity": int(claims.identity[position]), "covered": bool(claims.covered[position]),
            "burden": float(claims.burden[position]), "basic_ytd": state[0],
            "basic_paid": state[1], "tilt_ytd": state[2], "tilt_paid": state[3]})["result"]
        covered = bool(claims.covered[position])
        basic[position], tilt[position] = result["basic"], result["tilt"]
        if covered:
            state[0] += max(float(claims.burden[position]), 0.0)
            state[1] += result["basic"]
            state[2] += result["tilt_base"]
            state[3] += result["tilt"]
    return basic, tilt
