"""Robustness tests: hypothesis profiles (see ``profiles``) and the active one in the header."""

from __future__ import annotations

from robustness.profiles import PROFILE, ROBUSTNESS


def pytest_report_header(config):
    return (f"robustness: hypothesis profile {PROFILE} ({ROBUSTNESS.max_examples} examples); "
            "HYPOTHESIS_PROFILE=long explores longer")
