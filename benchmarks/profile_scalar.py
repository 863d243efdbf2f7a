"""Where the scalar evaluator's time goes: CPU microseconds a claim, phase by phase.

    .venv/bin/python -m benchmarks.profile_scalar [CLAIMS.jsonl]

Not a test, and not the benchmark (benchmarks/bench_batch.py measures wall
clock and memory in fresh processes): this measures process CPU time, which
stays steady when other work shares the machine, of each step a streamed claim
goes through — decoding the JSON line, admitting it (docs/claims.md and the
policy), evaluating the graph without and with a trace, and writing the
result line — on Benxi synthetic claims (20,000 by default, seed 2023).
"""

from __future__ import annotations

import statistics
import sys
import time

from yibao.api import load_engine
from yibao.backends.formats import read_records, write_records
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.claims import ClaimError, decode_claim_line
from yibao.runtime.ledger import Ledger
from yibao.runtime.results import outcome_line
from yibao.cli.main import tune_gc

POLICY = "policies/benxi-2023.policy"
REPEATS = 3


def cpu_per_claim(work, items) -> float:
    """Median over REPEATS runs of CPU µs per item."""
    runs = []
    for _ in range(REPEATS):
        start = time.process_time()
        work(items)
        runs.append((time.process_time() - start) / len(items) * 1e6)
    return statistics.median(runs)


def main(argv=None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    # The collector as the yibao command and benchmarks/measure.py set it: with the
    # default thresholds, the thousands of claims and results held here for the
    # phases would be scanned over and over, and that would be measured instead.
    tune_gc()
    engine = load_engine(POLICY)
    path = argv[0] if argv else "/tmp/yibao-profile-claims.jsonl"
    if not argv:
        write_records(synthetic_claims(engine.loaded, 20_000, seed=2023), path, "jsonl",
                      engine.versions)
    lines = [(number, line) for number, line in read_records(path, "jsonl")]
    records = [decode_claim_line(line, number) for number, line in lines]
    claims = []
    for record in records:
        try:
            claims.append(engine.validate(record))
        except ClaimError:
            pass

    def decode(items):
        for number, line in items:
            decode_claim_line(line, number)

    def admit(items):
        for record in items:
            try:
                engine.validate(record)
            except ClaimError:
                pass

    def evaluate(trace):
        def run(items):
            ledger = Ledger()
            for claim in items:
                try:
                    engine.evaluate_claim(claim, ledger, trace)
                except ClaimError:
                    pass
        return run

    results = [outcome for outcome in engine.stream_records(lines[:2000], True)
               if not isinstance(outcome, ClaimError)]

    def write(trace):
        def run(items):   # as `yibao eval` writes JSON Lines
            for result in items:
                outcome_line(result, trace)
        return run

    phases = [("decode a JSON line", decode, lines),
              ("admit (validate)", admit, records),
              ("evaluate, no trace", evaluate(False), claims),
              ("evaluate, with trace", evaluate(True), claims),
              ("write a result line, no trace", write(False), results),
              ("write a result line, with trace", write(True), results)]
    print(f"{len(lines):,} Benxi claims; CPU µs a claim, median of {REPEATS}")
    print("| phase | µs |\n|---|---:|")
    figures = {}
    for label, work, items in phases:
        figures[label] = cpu_per_claim(work, items)
        print(f"| {label} | {figures[label]:.1f} |")
    settle = figures["decode a JSON line"] + figures["admit (validate)"]
    for trace in (False, True):
        label = "with trace" if trace else "no trace"
        total = settle + figures[f"evaluate, {label}"]
        print(f"| **streamed, {label}** (decode + admit + evaluate) | {total:.1f} "
              f"(≈ {1e6 / total:,.0f} claims/s of CPU) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
