"""Every view says what made it (issue 24 item 11): yibao's version, the SHA-256 of the
policy text, the claims file's name and SHA-256, and the time.

The hashes are worked out here from the files' bytes (what `sha256sum` prints), not
read from yibao; the time is fixed with SOURCE_DATE_EPOCH = 1,700,000,000 s, which is
2023-11-14 22:13:20 UTC (19,675 days of 86,400 s after 1970-01-01 is 2023-11-14, and
the 80,000 s left are 22 h 13 min 20 s).
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from helpers import EXAMPLES, POLICIES
from yibao import __version__
from yibao.cli.main import main

POLICY = POLICIES / "benxi-2023.policy"
CLAIMS = EXAMPLES / "benxi-2023.jsonl"
POLICY_SHA = hashlib.sha256(POLICY.read_bytes()).hexdigest()
CLAIMS_SHA = hashlib.sha256(CLAIMS.read_bytes()).hexdigest()
FIXED = "2023-11-14T22:13:20Z"
EXPLAIN = ["explain", str(POLICY), str(CLAIMS), "--claim", "bx-0003"]


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def explain(capsys, *extra) -> str:
    assert main([*EXPLAIN, *extra]) == 0
    return capsys.readouterr().out


def test_the_text_ends_with_what_made_it(capsys):
    last = explain(capsys).rstrip("\n").split("\n")[-1]
    assert last == (f"由 yibao {__version__} 生成 · 政策 benxi-2023（文本 SHA-256 {POLICY_SHA}）"
                    f" · 申报文件 benxi-2023.jsonl（SHA-256 {CLAIMS_SHA}） · 时间 {FIXED}")


def test_markdown_and_english_say_the_same(capsys):
    markdown = explain(capsys, "--format", "markdown", "--lang", "en")
    assert markdown.rstrip("\n").split("\n")[-1] == (
        f"*Made by yibao {__version__} · policy benxi-2023 (text SHA-256 {POLICY_SHA}) · "
        f"claims benxi-2023.jsonl (SHA-256 {CLAIMS_SHA}) · at {FIXED}*")


def test_the_html_footer(capsys):
    page = explain(capsys, "--format", "html")
    footer = re.search(r'<p class="provenance">(.*?)</p>', page).group(1)
    assert POLICY_SHA in footer and CLAIMS_SHA in footer and FIXED in footer
    assert f"yibao {__version__}" in footer


def test_the_json_result_carries_it(capsys):
    data = json.loads(explain(capsys, "--format", "json"))
    assert data["provenance"] == {"yibao_version": __version__, "policy": "benxi-2023",
                                  "policy_sha256": POLICY_SHA, "claims_file": "benxi-2023.jsonl",
                                  "claims_sha256": CLAIMS_SHA, "made_at": FIXED}
    # The result is unchanged beside it: bx-0003 is paid 基本救助 6,200 and 倾斜救助 8,280.
    assert (data["payouts"]["基本救助"], data["payouts"]["倾斜救助"]) == ("6200.00", "8280.00")


def test_a_fixed_time_gives_the_same_document_twice(capsys):
    assert explain(capsys, "--format", "markdown") == explain(capsys, "--format", "markdown")


def test_without_a_fixed_time_it_is_now(capsys, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    made_at = json.loads(explain(capsys, "--format", "json"))["provenance"]["made_at"]
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", made_at) and made_at != FIXED


def test_the_graph_carries_it_under_its_title(tmp_path):
    alone, overlaid = tmp_path / "benxi.svg", tmp_path / "bx-0003.svg"
    assert main(["graph", str(POLICY), "-o", str(alone)]) == 0
    assert main(["graph", str(POLICY), "-o", str(overlaid), "--claim", "bx-0003",
                 "--claims", str(CLAIMS)]) == 0
    svg = alone.read_text(encoding="utf-8").replace("&#45;", "-")
    assert f"由 yibao {__version__} 生成" in svg and POLICY_SHA in svg and f"时间 {FIXED}" in svg
    assert "申报文件" not in svg                      # the policy alone: no claims file
    svg = overlaid.read_text(encoding="utf-8").replace("&#45;", "-")
    assert f"申报文件 benxi-2023.jsonl（SHA-256 {CLAIMS_SHA}）" in svg
