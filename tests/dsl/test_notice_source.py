"""A policy's ``source`` names its notice, relative to the policy file (dsl/notices.py).

Every shipped policy's notice is in ``policies/notices/``; `yibao check` warns
(S250, at the source string's line and column, with a hint) when the file it
names cannot be read, and still checks the policy: the notice is provenance,
not an input to settlement.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from helpers import POLICIES
from yibao.cli.main import main
from yibao.dsl.loader import load_policy
from yibao.dsl.notices import find_notice
from yibao.dsl.parser import parse_policy

SHIPPED = sorted(POLICIES.glob("*.policy"))
# A revision encodes the same notice as the version it extends.
NOTICE_OF = {"benxi-2023": "benxi-2023", "jiamusi-2021": "jiamusi-2021",
             "jiamusi-2022": "jiamusi-2021", "jilin-2019": "jilin-2019",
             "jilin-2020": "jilin-2019", "lhasa-2020": "lhasa-2020",
             "xinjiang-2023": "xinjiang-2023"}
BENXI = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_policy_names_a_notice_that_exists(path):
    text = path.read_text(encoding="utf-8")
    header = parse_policy(text, str(path)).header
    lookup = find_notice(str(path), text, header)
    assert lookup.problem is None
    assert header.source == f"notices/{NOTICE_OF[path.stem]}.txt"
    assert lookup.notice.path == POLICIES / "notices" / f"{NOTICE_OF[path.stem]}.txt"
    assert lookup.notice.text == lookup.notice.path.read_text(encoding="utf-8")


def _copy_benxi(folder: pathlib.Path, source: str) -> pathlib.Path:
    path = folder / "benxi-2023.policy"
    path.write_text(BENXI.replace('source "notices/benxi-2023.txt"', f'source "{source}"'),
                    encoding="utf-8")
    return path


def test_check_warns_at_the_source_string_when_the_notice_is_missing(tmp_path, capsys):
    path = _copy_benxi(tmp_path, "notices/benxi-2032.txt")
    status = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert status == 0                        # a warning: the policy still checks
    assert out.startswith("ok benxi-2023")
    assert "warning[S250]" in err
    # Line 12 is `    source "…"`: the string starts at column 12.
    assert f"--> {path}:12:12" in err
    assert "notices/benxi-2032.txt" in err and "hint:" in err


def test_check_json_lists_the_warning_with_its_range(tmp_path, capsys):
    path = _copy_benxi(tmp_path, "notices/benxi-2032.txt")
    assert main(["check", "--format", "json", str(path)]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert [(w["code"], w["line"], w["column"], w["end_column"]) for w in warnings] == [
        ("S250", 12, 12, 12 + len('"notices/benxi-2032.txt"'))]
    assert warnings[0]["severity"] == "warning"


def test_the_shipped_policy_loads_without_warnings():
    assert [w.code for w in load_policy(POLICIES / "benxi-2023.policy").warnings] == []


def test_a_source_outside_the_policy_folder_is_refused(tmp_path):
    (tmp_path / "notice.txt").write_text("（五）合理确定医疗救助待遇水平", encoding="utf-8")
    inner = tmp_path / "policies"
    inner.mkdir()
    path = _copy_benxi(inner, "../notice.txt")
    [warning] = load_policy(path).warnings
    assert warning.code == "S250" and "leaves the policy's folder" in warning.message


def test_a_notice_that_is_not_utf8_is_reported(tmp_path):
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "benxi-2023.txt").write_bytes("本溪".encode("gbk"))
    path = _copy_benxi(tmp_path, "notices/benxi-2023.txt")
    [warning] = load_policy(path).warnings
    assert warning.code == "S250" and "not valid UTF-8" in warning.message


def test_the_source_span_ignores_a_comment_naming_source(tmp_path):
    text = BENXI.replace('    source "notices/benxi-2023.txt"',
                         '    # source "old.txt" was the draft\n    source "missing.txt"')
    header = parse_policy(text, "x.policy").header
    lookup = find_notice(str(tmp_path / "x.policy"), text, header)
    assert (lookup.problem.span.line, lookup.problem.span.column) == (13, 12)
