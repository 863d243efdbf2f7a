"""Worst-case policy shapes: how long parse, check and lower take as a file grows.

A benchmark, not a test: it prints figures.  Each shape is measured at two or
three sizes so the growth shows (linear, quadratic, worse); every shape stays
well inside the 512 KB file bound, where the worst would be far slower.  Each
measurement runs in its own process, stopped after --timeout seconds.

    .venv/bin/python fuzz/worst_case_policies.py            # about a minute
    .venv/bin/python fuzz/worst_case_policies.py --timeout 600
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

HEAD = "policy worst-2024 { effective 2024-01-01 }\nclause §1 \"条款\"\n"


def treated_as_chain(n: int) -> str:
    """identity a0 treated as a1, a1 treated as a2, …: the checker walks each chain."""
    return HEAD + "".join(f"identity a{i} treated as a{i + 1} §1\n" for i in range(n)) \
        + f"identity a{n} §1\n"


def upstream_lines(n: int) -> str:
    return HEAD + "".join(f"line L{i} upstream §1\n" for i in range(n))


def fields(n: int) -> str:
    return HEAD + "".join(f"field f{i}: bool §1\n" for i in range(n))


def unknown_table_keys(n: int) -> str:
    identities = "".join(f"identity 身份{i} §1\n" for i in range(150))
    keys = "".join(f" 未知{i}: 50%" for i in range(n))
    return HEAD + identities + "line L { covers 住院 §1 rate §1 {" + keys + " } }\n"


def not_chain(n: int) -> str:
    """when not not not … in_province: the parse tree is n levels deep."""
    return (HEAD + "identity 低保对象 §1\nfield in_province: bool default true §1\n"
            "line L {\n covers 住院 §1\n when " + "not " * n + "in_province §1\n rate 70% §1\n}\n")


def params(n: int) -> str:
    return HEAD + "".join(f"param P{i} 5 §1\n" for i in range(n))


SHAPES = {
    "treated-as chain": (treated_as_chain, (200, 400, 800)),
    "upstream lines": (upstream_lines, (2500, 5000, 10000)),
    "fields": (fields, (2500, 5000, 10000)),
    "unknown table keys": (unknown_table_keys, (2500, 5000, 10000)),
    "params": (params, (5000, 10000, 20000)),
    "not chain": (not_chain, (100, 300, 1000)),
}


def _measure(shape: str, size: int, queue) -> None:
    from yibao.compiler.lower import lower_policy
    from yibao.core.diagnostics import PolicyError
    from yibao.dsl.checker import check_policy
    from yibao.dsl.parser import parse_policy

    build, _ = SHAPES[shape]
    text = build(size)
    started = time.perf_counter()
    try:
        tree = parse_policy(text, "worst.policy")
        parsed = time.perf_counter()
        result = check_policy(tree)
        checked = time.perf_counter()
        if result.policy is not None:
            lower_policy(result.policy)
        codes = sorted({d.code for d in result.diagnostics})
        queue.put((len(text.encode()), parsed - started, checked - parsed,
                   time.perf_counter() - checked, ",".join(codes) or "ok"))
    except PolicyError as error:
        queue.put((len(text.encode()), time.perf_counter() - started, 0.0, 0.0,
                   error.diagnostics[0].code))
    except Exception as error:  # the point of the script is to show these
        queue.put((len(text.encode()), time.perf_counter() - started, 0.0, 0.0,
                   f"CRASH {type(error).__name__}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per measurement")
    args = parser.parse_args()
    print(f"{'shape':20} {'size':>6} {'bytes':>8} {'parse s':>8} {'check s':>8} "
          f"{'lower s':>8}  outcome")
    for shape, (_, sizes) in SHAPES.items():
        for size in sizes:
            queue = multiprocessing.Queue()
            process = multiprocessing.Process(target=_measure, args=(shape, size, queue))
            process.start()
            process.join(args.timeout)
            if process.is_alive():
                process.terminate()
                process.join()
                print(f"{shape:20} {size:>6} {'':>8} {'':>8} {'':>8} {'':>8}  "
                      f"still running after {args.timeout:g} s")
                break
            size_bytes, parse, check, lower, outcome = queue.get()
            print(f"{shape:20} {size:>6} {size_bytes:>8} {parse:8.2f} {check:8.2f} "
                  f"{lower:8.2f}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
