"""Atheris harness: the policy front end (parse → check → lower) on any text.

An input either compiles to an evaluation graph or is refused with a
PolicyError whose diagnostics have a stable code, a message and a
file:line:col.  Any other exception is a crash; libFuzzer's -timeout and
-rss_limit_mb catch hangs and runaway memory.

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/policy_front_end.py -max_total_time=600 -timeout=30 -rss_limit_mb=2048

Seeds: the shipped policies (copied to a scratch corpus).  Bytes that are not
UTF-8 are the loader's to refuse (P113), tested in tests/robustness.
"""

from __future__ import annotations

import re
import sys

PATH = "fuzz.policy"
CODE = re.compile(r"[PS]\d{3}")


def test_one_input(data: bytes) -> None:
    from yibao.compiler.lower import lower_policy
    from yibao.core.diagnostics import PolicyError
    from yibao.dsl.checker import check_policy
    from yibao.dsl.parser import parse_policy

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        result = check_policy(parse_policy(text, PATH))
        if result.policy is None:
            raise PolicyError(result.diagnostics)
        lower_policy(result.policy)
    except PolicyError as error:
        assert error.diagnostics, "a PolicyError without diagnostics"
        for diagnostic in error.diagnostics:
            assert CODE.fullmatch(diagnostic.code), diagnostic
            assert diagnostic.message and diagnostic.span.file == PATH, diagnostic
            assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1, diagnostic


def seeds():
    from harness import ROOT

    return sorted((ROOT / "policies").glob("*.policy"))


if __name__ == "__main__":
    from harness import run

    run("policies", seeds(), test_one_input,
        ["yibao.dsl.parser", "yibao.dsl.checker", "yibao.compiler.lower"])
    sys.exit(0)
