"""The ``yibao_case`` pytest plugin as a policy team uses it: write the snapshot, revise the
policy, read the failure, update.

Run in a separate pytest process in a temporary folder (the team's repository).  Benxi
§(五): p-01's first claim (B 15,000) is paid 基本救助 60% × 13,000 = 7,800 and 倾斜救助
60% × (7,200 − 3,000) = 2,520; at 65% it becomes 8,450 and 60% × (6,550 − 3,000) = 2,130.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys

from helpers import EXAMPLES, POLICIES

TEAM_TEST = '''
def test_benxi(yibao_case):
    yibao_case("benxi-2023.policy", "claims.jsonl")
'''


def run_pytest(folder, *extra):
    # Plugins named explicitly, so the run does not depend on what else is installed.
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "syrupy", "-p", "yibao.testing.plugin",
               "-p", "no:cacheprovider", *extra]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_plugin_is_registered_for_pytest():
    [entry] = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "yibao"]
    assert entry.value == "yibao.testing.plugin"


def test_snapshot_written_then_a_revision_fails_with_the_changed_figures(tmp_path):
    shutil.copy(POLICIES / "benxi-2023.policy", tmp_path / "benxi-2023.policy")
    lines = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "claims.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (tmp_path / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")

    written = run_pytest(tmp_path, "--snapshot-update")
    assert written.returncode == 0, written.stdout
    snapshot = (tmp_path / "__snapshots__" / "test_team" / "test_benxi.txt").read_text(
        encoding="utf-8")
    assert snapshot.startswith("# yibao snapshot: benxi-2023 × claims.jsonl, 3 claims\n")
    assert "== bx-0001 ==\n" in snapshot and "  基本救助: 7800.00\n  倾斜救助: 2520.00\n" in snapshot
    assert str(tmp_path) not in snapshot          # nothing volatile: no paths

    assert run_pytest(tmp_path).returncode == 0   # unchanged policy: passes

    policy = tmp_path / "benxi-2023.policy"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n"
                                   "    cap 2万", "低保边缘家庭成员: 65%\n        因病致贫重病患者: "
                                   "50%\n    }\n    cap 2万"), encoding="utf-8")
    failed = run_pytest(tmp_path)
    assert failed.returncode == 1
    assert "-   基本救助: 7800.00" in failed.stdout and "+   基本救助: 8450.00" in failed.stdout
    assert "-   倾斜救助: 2520.00" in failed.stdout and "+   倾斜救助: 2130.00" in failed.stdout

    assert run_pytest(tmp_path, "--snapshot-update").returncode == 0
    updated = (tmp_path / "__snapshots__" / "test_team" / "test_benxi.txt").read_text(
        encoding="utf-8")
    assert "  基本救助: 8450.00\n  倾斜救助: 2130.00\n" in updated
    assert "  |     基本救助支付比例: 65%\n" in updated
