"""The atheris harnesses in fuzz/ stay runnable: each accepts its seeds and hostile inputs.

Atheris itself is optional (``pip install atheris``, see fuzz/README.md); here
each harness's ``test_one_input`` runs without it, on the seed corpus it hands
libFuzzer and on inputs the other robustness tests use.
"""

from __future__ import annotations

import importlib.util

import pytest

from robustness.claim_space import ROOT
from robustness.hostile_lines import HOSTILE

FUZZ = ROOT / "fuzz"


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.syspath_prepend(str(FUZZ))

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"fuzz_{name}", FUZZ / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def test_the_policy_harness_takes_its_seeds_and_broken_texts(harness):
    front_end = harness("policy_front_end")
    seeds = front_end.seeds()
    assert len(seeds) >= 5
    for seed in seeds:
        data = seed.read_bytes()
        front_end.test_one_input(data)
        front_end.test_one_input(data[: len(data) // 2])
        front_end.test_one_input(data.replace(b":", "：".encode()))
    for junk in (b"", b"\xff\xfe", b"policy", b"(" * 40, "policy 医保 {".encode()):
        front_end.test_one_input(junk)


def test_the_claims_harness_takes_its_seeds_and_every_hostile_line(harness):
    claims = harness("claims_batch")
    seeds = claims.seeds()
    assert {seed.parent.name for seed in seeds} == {"examples", "seeds"}
    for seed in seeds:
        claims.test_one_input(seed.read_bytes())
    claims.test_one_input(b"\n".join(bad for bad, *_ in HOSTILE.values()))
