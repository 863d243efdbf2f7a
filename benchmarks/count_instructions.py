"""Machine instructions a streamed scalar claim costs, counted by valgrind.

    .venv/bin/python -m benchmarks.count_instructions [CLAIMS]      # 2,000 by default

Wall clock and even CPU time drift by up to 1.8× within minutes on a shared
machine, so a change of 10% cannot be seen in them without many alternating
runs.  The number of instructions the process executes does not drift: this
script settles Benxi synthetic claims (seed 2023) through
``Engine.stream_records``, as ``yibao eval --stream`` does, under valgrind's
cachegrind (instruction counts only), once with CLAIMS claims and once with
one, and prints the difference per claim, without and with trace — start-up
and loading the policy cancel out.  Python's string hashing is fixed
(PYTHONHASHSEED=0), so that two runs of the same code count the same.

Not a test and not the benchmark (benchmarks/bench_batch.py measures wall clock
and memory): a way to compare two commits, e.g. before and after a change.
Needs valgrind (``apt install valgrind``); takes about a minute per 1,000 claims.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

POLICY = "policies/benxi-2023.policy"
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def settle(path: str, trace: bool) -> None:
    """The measured work: every claim of the file through the streamed scalar path."""
    from yibao.api import load_engine
    from yibao.backends.formats import read_records
    from yibao.cli.main import tune_gc

    tune_gc()   # as the yibao command runs
    engine = load_engine(POLICY)
    for _ in engine.stream_records(read_records(path, "jsonl"), trace):
        pass


def instructions(path: str, trace: bool) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null", sys.executable, "-m",
               "benchmarks.count_instructions", "--settle", path]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    found = _TOTAL.search(done.stderr)
    if found is None:
        raise RuntimeError("valgrind printed no instruction count:\n" + done.stderr[-2000:])
    return int(found.group(1).replace(",", ""))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--settle"]:
        settle(argv[1], "--trace" in argv[2:])
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt install valgrind", file=sys.stderr)
        return 2
    from yibao.api import load_engine
    from yibao.backends.formats import write_records
    from yibao.backends.synthetic import synthetic_claims

    count = int(argv[0]) if argv else 2_000
    engine = load_engine(POLICY)
    claims = list(synthetic_claims(engine.loaded, count, seed=2023))
    with tempfile.TemporaryDirectory(prefix="yibao-count-") as directory:
        many, one = f"{directory}/many.jsonl", f"{directory}/one.jsonl"
        write_records(claims, many, "jsonl", engine.versions)
        write_records(claims[:1], one, "jsonl", engine.versions)
        print(f"{count:,} Benxi claims, streamed; instructions a claim (cachegrind)")
        print("| path | instructions a claim |\n|---|---:|")
        for trace in (False, True):
            per_claim = (instructions(many, trace) - instructions(one, trace)) / (count - 1)
            print(f"| scalar, {'with' if trace else 'no'} trace | {per_claim:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
