"""Where the scalar evaluator's time goes, and what three small changes would save.

    .venv/bin/python -m benchmarks.profile_scalar [CLAIMS.jsonl]

Not a test: it measures CPU time (steady under other load) of streaming Benxi
synthetic claims through ``Engine.stream_records``, with and without trace,
then again with each proposed change applied *in this process only* (the
modules are not edited; the changes are for compiler/claims.py,
compiler/formulas.py and core/money.py, whose owners decide):

A. decode: look for a ``\\u`` escape in the raw line before walking the decoded
   record for lone surrogates (a lone surrogate can only arrive as an escape).
B. trace: ``formulas._candidate_label`` imports ``Phase`` on every call; import
   it once at module level.
C. trace: ``format_money`` quantizes amounts that already have two places;
   format those directly.
D. trace, the bound: record (node, value) while evaluating and build the
   ``Step`` (formula in words, citations) only when a trace is read; shown by
   making ``describe`` keep the pair (the trace is then not rendered).
"""

from __future__ import annotations

import decimal
import sys
import time

from yibao.api import load_engine
from yibao.backends.formats import read_records, write_records
from yibao.backends.synthetic import synthetic_claims

POLICY = "policies/benxi-2023.policy"


def rate(engine, records, trace: bool) -> float:
    start = time.process_time()
    for _ in engine.stream_records(records, trace):
        pass
    return len(records) / (time.process_time() - start)


def apply_a():
    from yibao.compiler import claims

    original = claims.decode_claim_line

    def decode(text, line_number=None):
        raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
        if "\\u" not in raw and "\\U" not in raw:
            saved, claims._has_lone_surrogate = claims._has_lone_surrogate, lambda record: False
            try:
                return original(text, line_number)
            finally:
                claims._has_lone_surrogate = saved
        return original(text, line_number)

    claims.decode_claim_line = decode
    for module in list(sys.modules.values()):
        if getattr(module, "decode_claim_line", None) is original:
            module.decode_claim_line = decode


def apply_b():
    from yibao.compiler import formulas
    from yibao.compiler.graph import Phase
    from yibao.dsl.model import NO_IDENTITY

    def candidate_label(node, context):
        if node.phase is not Phase.CANDIDATE:
            return None
        return context.candidate or NO_IDENTITY

    formulas._candidate_label = candidate_label


def apply_c():
    from yibao.compiler import formulas
    from yibao.core import money

    original = money.format_money
    two_places = decimal.Decimal("0.01").as_tuple().exponent

    def format_money(amount):
        if isinstance(amount, decimal.Decimal) and amount.as_tuple().exponent == two_places:
            return f"{amount:f}"
        return original(amount)

    money.format_money = format_money
    formulas.format_money = format_money


def apply_d():
    from yibao.compiler import formulas

    formulas.describe = lambda node, context, evaluator: (node, context.values[node.id])


def main(argv=None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    engine = load_engine(POLICY)
    if argv:
        path = argv[0]
    else:
        path = "/tmp/yibao-profile-claims.jsonl"
        write_records(synthetic_claims(engine.loaded, 20_000, seed=2023), path, "jsonl",
                      engine.versions)
    records = list(read_records(path, "jsonl"))
    print(f"{len(records):,} Benxi claims, CPU claims/s (streamed)")
    print("| change | no trace | with trace |\n|---|---:|---:|")
    print(f"| as is | {rate(engine, records, False):,.0f} | {rate(engine, records, True):,.0f} |")
    for label, apply in (("A surrogate pre-check", apply_a), ("+ B import once", apply_b),
                         ("+ C money format", apply_c), ("+ D deferred trace (bound)", apply_d)):
        apply()
        print(f"| {label} | {rate(engine, records, False):,.0f} | "
              f"{rate(engine, records, True):,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
