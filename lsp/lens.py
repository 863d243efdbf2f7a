"""The code lens "settle the example claims", above the header and each line.

Running it settles, under the policy as it stands in the editor (unsaved
edits included, on top of the saved versions it extends), the example
claims of ``examples/<policy id>.jsonl`` and the cases of
``cases/<policy id>.yaml`` beside the policy file, and reports each claim's
payout of that line (or its total, above the header), each refusal with its
code, and each case that fails with what was expected — Regal's "evaluate
this rule" for a notice.
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal

from lsprotocol import types

from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError
from yibao.core.diagnostics import PolicyError
from yibao.core.money import format_amount_words
from yibao.dsl import ast
from yibao.dsl.loader import LoadedPolicy
from yibao.lsp.analysis import Analysis

COMMAND = "yibao.settleExamples"
TITLE = "▶ settle the example claims"


def code_lenses(analysis: Analysis) -> list[types.CodeLens]:
    if analysis.tree is None:
        return []
    lenses = []
    for item in analysis.tree.items:
        if isinstance(item, ast.Header):
            target = None
        elif isinstance(item, (ast.ComputedLine, ast.UpstreamLine)):
            target = item.name.text
        elif isinstance(item, ast.Amendment):
            target = item.target.text
        else:
            continue
        if item.span.line <= 0:
            continue
        start = analysis.index.position(item.span.line, item.span.column)
        title = TITLE if target is None else f"{TITLE}: {target}"
        lenses.append(types.CodeLens(
            range=types.Range(start=start, end=start),
            command=types.Command(title=title, command=COMMAND,
                                  arguments=[analysis.uri, target])))
    return lenses


def example_files(analysis: Analysis) -> tuple[pathlib.Path | None, pathlib.Path | None]:
    header = analysis.tree.header if analysis.tree is not None else None
    if header is None:
        return None, None
    folder = pathlib.Path(analysis.path).parent
    examples = folder / "examples" / f"{header.policy_id}.jsonl"
    cases = next((p for p in (folder / "cases" / f"{header.policy_id}.yaml",
                              folder / "cases" / f"{header.policy_id}.yml") if p.is_file()), None)
    return (examples if examples.is_file() else None), cases


def settle_examples(analysis: Analysis, line: str | None) -> dict:
    """The examples and cases settled under the edited policy, as data and as text."""
    policy = analysis.policy
    if policy is None:
        return _refused("the policy does not check: fix its errors first")
    if line is not None and policy.line(line) is None:
        return _refused(f"the policy has no line {line}")
    parent = analysis.context.parent_loaded
    versions = (tuple(parent.versions) if parent is not None else ()) + (policy,)
    loaded = LoadedPolicy(versions, {analysis.path: analysis.text}, (),
                          analysis.context.base_missing)
    try:
        engine = Engine(loaded)
    except (PolicyError, ValueError) as error:
        message = error.diagnostics[0].message if isinstance(error, PolicyError) else str(error)
        return _refused(f"the policy cannot settle claims: {message}")
    examples, cases = example_files(analysis)
    result = {"policy": policy.policy_id, "line": line, "claims": [], "cases": []}
    if examples is not None:
        records = [(n, text) for n, text in enumerate(
            examples.read_text(encoding="utf-8").splitlines(), 1) if text.strip()]
        for outcome in engine.evaluate_records(records, False):
            result["claims"].append(_claim(outcome, line, f"examples/{examples.name}"))
    if cases is not None:
        result["cases"] = _cases(engine, cases, line)
    if examples is None and cases is None:
        return _refused(f"no examples/{policy.policy_id}.jsonl or cases/{policy.policy_id}.yaml "
                        "beside the policy")
    result["failed"] = sum(1 for c in result["cases"] if not c["passed"])
    result["text"] = _text(result)
    return result


def _claim(outcome, line: str | None, source: str) -> dict:
    if isinstance(outcome, ClaimError):
        return {"source": source, "claim_id": outcome.claim_id, "error": outcome.code,
                "message": outcome.message}
    paid = dict(outcome.payouts).get(line) if line is not None else outcome.total_paid
    return {"source": source, "claim_id": outcome.claim_id, "identity": outcome.identity,
            "payout": _money(paid) if paid is not None else None}


def _cases(engine: Engine, path: pathlib.Path, line: str | None) -> list[dict]:
    from yibao.testing.cases import CaseFileError, load_case_file
    from yibao.testing.runner import compare

    try:
        case_file = load_case_file(path)
    except CaseFileError as error:
        return [{"name": path.name, "passed": False, "claims": [],
                 "mismatches": [error.render()]}]
    out = []
    for case in case_file.cases:
        outcomes = engine.evaluate_records(list(case.claims), False)
        by_id = {o.claim_id: o for o in outcomes}
        mismatches = []
        for expectation in case.expectations:
            for mismatch in compare(expectation, by_id.get(expectation.claim_id)):
                if line is None or mismatch.what in (line, "outcome", "total_paid",
                                                     "personal_burden"):
                    mismatches.append(f"{mismatch.claim_id} {mismatch.what}: expected "
                                      f"{mismatch.expected}, got {mismatch.actual}")
        out.append({"name": case.name, "passed": not mismatches, "mismatches": mismatches,
                    "claims": [_claim(o, line, f"cases/{path.name}") for o in outcomes]})
    return out


def _text(result: dict) -> str:
    what = result["line"] or "total paid"
    rows = [f"{result['policy']}: {what}"]
    for claim in result["claims"]:
        rows.append(_claim_text(claim))
    for case in result["cases"]:
        mark = "ok  " if case["passed"] else "FAIL"
        rows.append(f"{mark} {case['name']}")
        rows.extend("       " + _claim_text(c) for c in case["claims"])
        rows.extend("       ✗ " + m for m in case["mismatches"])
    return "\n".join(rows)


def _claim_text(claim: dict) -> str:
    if "error" in claim:
        return f"  {claim['claim_id']}: refused {claim['error']} {claim['message']}"
    return f"  {claim['claim_id']}: {claim['payout'] if claim['payout'] is not None else '—'}"


def _money(amount: Decimal) -> str:
    return format_amount_words(amount)


def _refused(message: str) -> dict:
    return {"error": message, "text": message, "claims": [], "cases": [], "failed": 0}


def dumps(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False)
