"""The case runner's report: one line per case, and for a failure, expected vs actual
with the trace steps that made the actual figure."""

from __future__ import annotations

from typing import Sequence

from yibao.runtime.trace import Step
from yibao.explain.trace_zh import step_label, words
from yibao.testing.runner import CaseResult, Mismatch


def render_results(results: Sequence[CaseResult], verbose: bool = False) -> str:
    out: list[str] = []
    for result in results:
        where = f"{result.file}:{result.line}"
        if result.passed:
            if verbose:
                out.append(f"ok   {where}: {result.case}")
            continue
        out.append(f"FAIL {where}: {result.case}")
        for mismatch in result.mismatches:
            out.extend(_mismatch(mismatch))
    failed = sum(1 for r in results if not r.passed)
    out.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(out) + "\n"


def _mismatch(mismatch: Mismatch) -> list[str]:
    at = f" (expected at line {mismatch.line})" if mismatch.line else ""
    claim = f"claim {mismatch.claim_id}: " if mismatch.claim_id != "—" else ""
    out = [f"  {claim}{mismatch.what}{at}",
           f"    expected: {mismatch.expected}",
           f"    actual:   {mismatch.actual}"]
    if mismatch.steps:
        out.append("    trace steps behind the actual figure:")
        out.extend(f"      {line}" for step in mismatch.steps for line in _step(step))
    return out


def _step(step: Step) -> list[str]:
    who = f" [{step.candidate}]" if step.candidate else ""
    written = words(step)
    lines = [f"{step_label(step)}{who}: {written.value}"]
    if written.formula and written.formula != written.value:
        lines.append(f"  {written.formula}")
    if step.clause:
        version = f" ({step.version}{'，沿用' if step.inherited else ''})" if step.version else ""
        lines.append(f"  §{step.clause}{version}")
    return lines
