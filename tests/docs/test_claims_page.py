"""docs/claims.md §14, the worked file, is what yibao does: its claims (JSON Lines and CSV)
give the results the page prints, on the scalar path and on DuckDB.

The figures are worked on the page from Benxi §(五), §(六), §(八), §(十三); this test
keeps the page true when the code or the page changes.
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import POLICIES, ROOT
from yibao.cli.main import EXIT_CLAIMS_FAILED, main

PAGE = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
SECTION = PAGE[PAGE.index("## 14. A worked file"):]
BLOCKS = re.findall(r"```(?:json|text)\n(.*?)```", SECTION, re.DOTALL)
CLAIMS_JSONL, RESULTS, CLAIMS_CSV = BLOCKS[0], BLOCKS[1], BLOCKS[2]
POLICY = str(POLICIES / "benxi-2023.policy")


def printed_results() -> list[dict]:
    return [json.loads(line) for line in RESULTS.splitlines() if line.strip()]


@pytest.mark.parametrize("backend", ["scalar", "duckdb"])
@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_the_worked_file_gives_the_results_the_page_prints(tmp_path, capsys, suffix, backend):
    claims = tmp_path / f"claims.{suffix}"
    claims.write_text(CLAIMS_JSONL if suffix == "jsonl" else CLAIMS_CSV, encoding="utf-8")
    assert main(["eval", POLICY, str(claims), "--backend", backend]) == EXIT_CLAIMS_FAILED
    outcomes = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = printed_results()
    if suffix == "csv":
        expected[2]["line"] = 4     # the page: "d-03's line is 4 in the CSV"
    assert outcomes == expected
    # The page's hand-worked figures, restated: 60% above 2,000 of 15,000; 70% of 6,000.50.
    assert outcomes[0]["payouts"]["基本救助"] == "7800.00"
    assert outcomes[1]["payouts"]["基本救助"] == "4200.35"
