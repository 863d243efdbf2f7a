"""Run case files: settle each case's claims and compare what the notice says they get.

``run_case_dir(POLICY_DIR)`` runs every ``POLICY_DIR/cases/*.yaml`` against
``POLICY_DIR/<policy>.policy``.  Each mismatch keeps the trace steps that made
the actual figure (the payout step and the values its line read), so the
report can say which value of the policy to look at.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal

import attrs

from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.trace import Step
from yibao.core.diagnostics import PolicyError
from yibao.core.money import format_amount_words
from yibao.dsl.loader import load_policy
from yibao.testing.cases import Case, CaseFile, CaseFileError, Expectation, load_case_file

CASE_GLOBS = ("*.yaml", "*.yml")


@attrs.frozen
class Mismatch:
    claim_id: str
    what: str                       # 基本救助, total_paid, alerts, error …
    expected: str
    actual: str
    steps: tuple[Step, ...] = ()    # the step that made the actual figure, and what it read
    line: int = 0                   # the expectation's line in the case file


@attrs.frozen
class CaseResult:
    file: str
    case: str
    line: int
    claims: int
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


def case_files(policy_dir: str | pathlib.Path) -> list[pathlib.Path]:
    folder = pathlib.Path(policy_dir)
    folder = folder / "cases" if (folder / "cases").is_dir() else folder
    found = {path for pattern in CASE_GLOBS for path in folder.glob(pattern)}
    return sorted(found)


def run_case_dir(policy_dir: str | pathlib.Path) -> list[CaseResult]:
    results: list[CaseResult] = []
    for path in case_files(policy_dir):
        results.extend(run_case_file(path, pathlib.Path(policy_dir)))
    return results


def run_case_file(path: str | pathlib.Path, policy_dir: str | pathlib.Path | None = None
                  ) -> list[CaseResult]:
    """Every case of one file; the policy is ``<policy_dir>/<policy>.policy``.

    ``policy_dir`` defaults to the folder above ``cases/`` (or the file's own folder).
    """
    path = pathlib.Path(path)
    cases = load_case_file(path)
    folder = pathlib.Path(policy_dir) if policy_dir else _policy_folder(path)
    policy_path = folder / f"{cases.policy}.policy"
    if not policy_path.is_file():
        raise CaseFileError(str(path), 1, f"no policy {cases.policy}: {policy_path} is missing")
    if cases.refused is not None:
        return [_check_refusal(cases, policy_path)]
    engine = Engine(load_policy(policy_path))
    return [run_case(engine, cases.path, case) for case in cases.cases]


def _policy_folder(path: pathlib.Path) -> pathlib.Path:
    return path.parent.parent if path.parent.name == "cases" else path.parent


def _check_refusal(cases: CaseFile, policy_path: pathlib.Path) -> CaseResult:
    refusal = cases.refused
    name = f"evaluating {cases.policy} is refused with {refusal.code}"
    try:
        Engine(load_policy(policy_path))
    except PolicyError as error:
        codes = [d.code for d in error.diagnostics]
        text = "\n".join(d.message for d in error.diagnostics)
        problems = [] if refusal.code in codes else [
            Mismatch("—", "policy", refusal.code, ", ".join(codes), line=refusal.line)]
        problems += [Mismatch("—", "policy message", f"mentions {m!r}", text, line=refusal.line)
                     for m in refusal.mentions if m not in text]
        return CaseResult(cases.path, name, refusal.line, 0, tuple(problems))
    return CaseResult(cases.path, name, refusal.line, 0, (
        Mismatch("—", "policy", refusal.code, "the policy loads and evaluates", line=refusal.line),))


def run_case(engine: Engine, file: str, case: Case) -> CaseResult:
    outcomes = engine.evaluate_records(list(case.claims), trace=True)
    by_id = {o.claim_id: o for o in outcomes}
    mismatches: list[Mismatch] = []
    for expectation in case.expectations:
        outcome = by_id.get(expectation.claim_id)
        mismatches.extend(compare(expectation, outcome))
    return CaseResult(file, case.name, case.line, len(case.claims), tuple(mismatches))


def compare(expected: Expectation, outcome) -> list[Mismatch]:
    claim_id, line = expected.claim_id, expected.line
    if isinstance(outcome, ClaimError) or outcome is None:
        actual = f"refused: {outcome.code} {outcome.message}" if outcome else "no outcome"
        if expected.error is not None and outcome is not None and outcome.code == expected.error:
            return []
        wanted = f"refused with {expected.error}" if expected.error else "settled"
        return [Mismatch(claim_id, "outcome", wanted, actual, line=line)]
    if expected.error is not None:
        return [Mismatch(claim_id, "outcome", f"refused with {expected.error}",
                         f"settled: paid {format_amount_words(outcome.total_paid)}", line=line)]
    return _compare_result(expected, outcome)


def _compare_result(expected: Expectation, result: ClaimResult) -> list[Mismatch]:
    claim_id, line = expected.claim_id, expected.line
    found: list[Mismatch] = []
    payouts = dict(result.payouts)
    for name, amount in expected.payouts:
        if name not in payouts:
            found.append(Mismatch(claim_id, name, _money(amount), "no such line", line=line))
        elif payouts[name] != amount:
            found.append(Mismatch(claim_id, name, _money(amount), _money(payouts[name]),
                                  line_steps(result, name), line))
    for key, amount in expected.money:
        actual = getattr(result, key)
        if actual != amount:
            found.append(Mismatch(claim_id, key, _money(amount), _money(actual),
                                  _steps(result, key), line))
    for key, wanted, actual, node in (
            ("identity", expected.identity, result.identity, "take_highest"),
            ("policy", expected.policy, result.policy, None),
            ("alerts", expected.alerts, result.alerts, ".alert"),
            ("referrals", expected.referrals, result.referrals, ".referral")):
        if _differs(wanted, actual):
            found.append(Mismatch(claim_id, key, _words(wanted), _words(actual),
                                  _steps(result, node) if node else (), line))
    return found


def _differs(wanted, actual) -> bool:
    if wanted is None:      # not named by the expectation: not checked
        return False
    if isinstance(wanted, tuple):
        return wanted != tuple(actual)
    return wanted != actual


def _money(amount: Decimal) -> str:
    return format_amount_words(amount)


def _words(value) -> str:
    if isinstance(value, tuple):
        return "、".join(value) or "无"
    return value or "无救助身份"


def _steps(result: ClaimResult, node: str) -> tuple[Step, ...]:
    """Result-level steps whose node is ``node`` or ends with it (alerts, referrals)."""
    return tuple(s for s in result.trace
                 if s.candidate is None and (s.node == node or s.node.endswith(node)))


def line_steps(result: ClaimResult, line: str) -> tuple[Step, ...]:
    """The winning identity's steps of one line (values read, year to date, payout), and
    the ratio ceiling's step when a ceiling cut it."""
    from yibao.dsl.model import NO_IDENTITY

    winner = result.identity or NO_IDENTITY
    steps = [s for s in result.trace if s.line == line and not s.skipped
             and s.candidate in (winner, None)]
    steps += [s for s in result.trace if s.op == "ceiling" and s.candidate == winner]
    return tuple(steps)
