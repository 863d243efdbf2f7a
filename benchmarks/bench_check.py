"""`yibao check` on large generated policies: ``python -m benchmarks.bench_check [ROUNDS]``.

Issue 21 item 7: checking must grow linearly with the file, and a file of
repeated mistakes must be reported in bounded time and output.  Prints, for
each file, its size, the median wall time of ROUNDS runs of ``yibao check``
in a fresh process (interpreter start and imports included), the peak RSS and
the bytes written to stdout and stderr.
"""

from __future__ import annotations

import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HEAD = (
    "policy big-2023 {\n    effective 2023-01-01\n}\n"
    'clause §(一) "对特困人员给予救助"\n'
    "identity 特困人员 §(一)\n"
    "line 救助 {\n    covers 住院 §(一)\n    rate 70% §(一)\n"
)


def unknown_names(count: int) -> str:
    """One line naming ``count`` identities the policy does not declare (S203 each)."""
    names = ", ".join(f"未知人员{i % 50}" for i in range(count))
    return HEAD + f"    identities {names} §(一)\n}}\n"


def params(count: int) -> str:
    """A valid policy with ``count`` parameters."""
    return HEAD + "}\n" + "".join(f"param 参数{i} 100 §(一)\n" for i in range(count))


CASES = (
    ("unknown names x7,500", lambda: unknown_names(7_500)),
    ("params x4,000", lambda: params(4_000)),
    ("params x8,000", lambda: params(8_000)),
    ("params x16,000", lambda: params(16_000)),
)


def run_once(path: pathlib.Path) -> tuple[float, int, int]:
    start = time.perf_counter()
    # entry(): the `yibao` command as installed, with its garbage-collector settings.
    done = subprocess.run([sys.executable, "-c", "from yibao.cli.main import entry; entry()",
                           "check", str(path)], capture_output=True, check=False)
    seconds = time.perf_counter() - start
    return seconds, len(done.stdout) + len(done.stderr), done.returncode


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as folder:
        for label, make in CASES:
            path = pathlib.Path(folder) / "big-2023.policy"
            path.write_text(make(), encoding="utf-8")
            runs = [run_once(path) for _ in range(rounds)]
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
            seconds = statistics.median(r[0] for r in runs)
            print(f"{label:<22} {path.stat().st_size / 1024:7.0f} KB  median {seconds:6.2f} s  "
                  f"exit {runs[0][2]}  output {runs[0][1]:>9,} B  peak RSS so far {peak} MiB")


if __name__ == "__main__":
    main()
