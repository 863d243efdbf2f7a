"""`yibao eval` on the command line, end to end: claims/s and peak memory (issue 28).

    .venv/bin/python -m benchmarks.bench_cli                          # 10^5 and 10^6, 3 rounds
    .venv/bin/python -m benchmarks.bench_cli --sizes 100000 --rounds 5
    .venv/bin/python -m benchmarks.bench_cli --before /tmp/old      # /tmp/old/yibao: an older tree
    .venv/bin/python -m benchmarks.bench_cli --phases --sizes 1000000 # where the time goes
    .venv/bin/python -m benchmarks.bench_cli --backend duckdb         # another engine
    .venv/bin/python -m benchmarks.bench_cli --backend auto --sizes 1 1000 --cases parquet→parquet
                                                                      # the fixed costs

Each case is one ``yibao eval --backend columnar`` process (the engine
``--backend auto`` picks for all three cases at these sizes; ``--backend`` another), start-up, policy,
reading, settlement and writing the results file included, on Benxi 2023
synthetic claims (seed 2023, backends/synthetic.py; written once under
``--work`` by benchmarks/bench_batch.py's generator):

* JSON Lines → JSON Lines (``claims.jsonl -o results.jsonl``);
* CSV → JSON Lines (``claims.csv -o results.jsonl``);
* Parquet → Parquet (``claims.parquet -o results.parquet``).

The cases run in interleaved rounds (every case once a round; with
``--before DIR``, the same case of the older tree ``DIR/yibao`` right after
it, e.g. ``git archive <commit> | tar -x -C DIR/yibao``), so a slow spell of
a shared machine slows them alike; the median and the range are reported,
with the CPU seconds (user + system, all threads) and the peak resident
memory of the process (``/usr/bin/time``), the load average before and
after, and the plan cache warm (a first, unmeasured run fills it: the figure
is the run a user repeats).

``--phases`` runs the same steps in a fresh process with a clock around each
(import, policy, plan, read, admit, validate, route, settle, results, write;
wall seconds and, in brackets, CPU seconds of all threads): where the time of
one run goes.  It measures this checkout, one step after another: the command
itself reads a Parquet file while it imports and loads the policy
(cli/batch_io.py, read_ahead), so its wall time is less than the phases' sum.

Both modes let Python keep the modules' bytecode (:func:`run_environment`).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "benxi-2023.policy"
CASES = {"jsonl→jsonl": ("jsonl", "jsonl"), "csv→jsonl": ("csv", "jsonl"),
         "parquet→parquet": ("parquet", "parquet")}


def claims_file(size: int, fmt: str, work: pathlib.Path) -> pathlib.Path:
    path = work / f"benxi-{size}.{fmt}"
    if not path.exists():
        from yibao.api import load_engine
        from yibao.backends.formats import write_records
        from yibao.backends.synthetic import synthetic_claims

        engine = load_engine(POLICY)
        write_records(synthetic_claims(engine.loaded, size, seed=2023), str(path), fmt,
                      engine.versions)
    return path


def run_once(claims: pathlib.Path, output: pathlib.Path, tree: str | None = None,
             backend: str = "columnar") -> tuple[float, float, float]:
    """Seconds, CPU seconds and peak RSS (MiB) of one ``yibao eval`` process; ``tree``: a
    directory whose ``yibao`` is imported instead of this checkout's."""
    command = ["/usr/bin/time", "-f", "%U %S %M", sys.executable, "-m", "yibao.cli.main",
               "eval", str(POLICY), str(claims), "--backend", backend, "-o", str(output)]
    env = run_environment(tree)
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=err, env=env,
                                cwd=tree or ROOT).returncode
        seconds = time.perf_counter() - start
        err.seek(0)
        lines = err.read().splitlines()
    if status not in (0, 1):   # 1: some claims refused (C311), the others settled
        raise RuntimeError(f"{' '.join(command)} exited {status}: {lines[-5:]}")
    user, system, peak = lines[-1].split()
    return seconds, float(user) + float(system), int(peak) / 1024


def run_environment(tree: str | None = None) -> dict[str, str]:
    """The environment of a measured process: this one's, with ``tree`` first on the
    path, and Python allowed to keep the modules' bytecode.  A shell that sets
    PYTHONDONTWRITEBYTECODE (this workplace's does) makes every run of a source tree
    compile yibao's ≈ 100 modules again, ≈ 0.15 s of CPU before the first read, where
    an installed yibao (pip compiles it) or a checkout run once has them compiled: the
    unmeasured first round writes them, as it fills the plan and policy caches."""
    env = dict(os.environ, **({"PYTHONPATH": tree} if tree else {}))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="columnar",
                        choices=("auto", "columnar", "duckdb", "scalar"),
                        help="eval's --backend for every run, both trees (default columnar; "
                             "auto: the engine a user gets by default)")
    parser.add_argument("--tree", metavar="DIR",
                        help="measure DIR/yibao rather than this checkout (a snapshot: "
                             "edits during a long run do not leak into it)")
    parser.add_argument("--before", metavar="DIR",
                        help="also run DIR/yibao (an older tree), interleaved with this one")
    parser.add_argument("--work", default="/tmp/yibao-bench")
    parser.add_argument("--phases", action="store_true",
                        help="time each phase of one run in this process instead")
    args = parser.parse_args(argv)
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.phases:
        for size in args.sizes:
            for case in args.cases:
                phases(size, case, work, args.backend)
        return 0
    load_before = os.getloadavg()[0]
    trees = {"after": args.tree, **({"before": args.before} if args.before else {})}
    rows = []
    for size in args.sizes:
        files = {case: claims_file(size, CASES[case][0], work) for case in args.cases}
        runs: dict[tuple[str, str], list] = {(case, t): [] for case in args.cases for t in trees}
        for _ in range(args.rounds + 1):   # the first round is unmeasured: warms the caches
            for case in args.cases:
                for label, tree in trees.items():
                    out = work / f"out-{size}.{CASES[case][1]}"
                    runs[(case, label)].append(run_once(files[case], out, tree,
                                                        args.backend))
        for (case, label), measured in runs.items():
            rows.append((case, label, size, measured[1:]))
    print(f"--backend {args.backend}; median of {args.rounds} interleaved rounds, range in "
          f"brackets; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after.\n")
    print("| case | tree | claims | seconds | claims/s | CPU seconds | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case, label, size, measured in rows:
        seconds = sorted(m[0] for m in measured)
        cpu = sorted(m[1] for m in measured)
        peaks = sorted(m[2] for m in measured)
        median = seconds[len(seconds) // 2]
        print(f"| {case} | {label} | {size:,} | {median:.2f} [{seconds[0]:.2f}–{seconds[-1]:.2f}] "
              f"| {size / median:,.0f} | {cpu[len(cpu) // 2]:.2f} | {peaks[len(peaks) // 2]:.0f} |")
    return 0


def phases(size: int, case: str, work: pathlib.Path, backend: str = "columnar") -> None:
    """One run's phases, in a fresh process (``-c``) so that imports count: wall and CPU
    seconds (all threads) of each, the plan from the cache (the run a user repeats)."""
    fmt, out_fmt = CASES[case]
    claims = claims_file(size, fmt, work)
    script = f"""
import sys, time
clock = [time.perf_counter(), time.process_time()]
marks = []
def mark(name):
    now = (time.perf_counter(), time.process_time())
    marks.append((name, now[0] - clock[0], now[1] - clock[1])); clock[:] = now
from yibao.cli.main import build_parser
from yibao.cli.lean import keep_out_probed
keep_out_probed(build_parser(["eval"]).parse_args(["eval", "p", "c", "--backend", {backend!r}]))
from yibao.backends.run import run_backend
from yibao.backends.plan_cache import rendered_plan
from yibao.backends.results_columns import write_jsonl, write_parquet
from yibao.runtime.batch import Engine
from yibao.dsl.policy_cache import load_policy_cached
mark("import")
engine = Engine(load_policy_cached({str(POLICY)!r}))   # as `yibao eval` loads it
mark("policy")
rendered_plan(engine.loaded, "duckdb")
mark("plan")
# "read" ends when the engine has the claims (JSON Lines: typed by Arrow, columnar)
batch = run_backend(engine, {str(claims)!r}, {fmt!r}, {backend!r}, progress=mark)
out = {str(work / ("phases." + out_fmt))!r}
if {out_fmt!r} == "parquet":
    write_parquet(batch, out)
else:
    with open(out, "wb") as stream:
        write_jsonl(batch, stream)
mark("write")
wall = sum(m[1] for m in marks)
print("| {case} | {size:,} | " + " | ".join(f"{{w:.2f}} ({{c:.2f}})" for _, w, c in marks)
      + f" | {{wall:.2f}} |")
"""
    if not getattr(phases, "headed", False):
        phases.headed = True
        names = ["import", "policy", "plan", "read", "admit", "validate", "route", "settle",
                 "results", "write"]
        print("| case | claims | " + " | ".join(names) + " | total |")
        print("|---|---:|" + "---:|" * (len(names) + 1))
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, env=run_environment())


if __name__ == "__main__":
    sys.exit(main())
