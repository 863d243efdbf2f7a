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


def run_pytest(folder, *extra, autoload=False):
    # Plugins named explicitly, so the run does not depend on what else is installed;
    # autoload=True runs as a team (and this project) does: plugins from their entry points.
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    plugins = ["-p", "syrupy", "-p", "yibao.testing.plugin"]
    if autoload:
        del env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        plugins = []
    command = [sys.executable, "-m", "pytest", "-q", *plugins, "-p", "no:cacheprovider", *extra]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_plugin_is_registered_for_pytest():
    [entry] = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "yibao"]
    assert entry.value == "yibao.testing.plugin"


def team_folder(folder):
    shutil.copy(POLICIES / "benxi-2023.policy", folder / "benxi-2023.policy")
    lines = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "claims.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (folder / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")


def raise_the_rate(folder):
    """§(五)'s 低保边缘家庭成员 rate of 基本救助, 60% → 65%."""
    policy = folder / "benxi-2023.policy"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n"
                                   "    cap 2万", "低保边缘家庭成员: 65%\n        因病致贫重病患者: "
                                   "50%\n    }\n    cap 2万"), encoding="utf-8")


def test_snapshot_written_then_a_revision_fails_with_the_changed_figures(tmp_path):
    team_folder(tmp_path)

    written = run_pytest(tmp_path, "--snapshot-update")
    assert written.returncode == 0, written.stdout
    snapshot = (tmp_path / "__snapshots__" / "test_team" / "test_benxi.txt").read_text(
        encoding="utf-8")
    assert snapshot.startswith("# yibao snapshot: benxi-2023 × claims.jsonl, 3 claims\n")
    assert "== bx-0001 ==\n" in snapshot and "  基本救助: 7800.00\n  倾斜救助: 2520.00\n" in snapshot
    assert str(tmp_path) not in snapshot          # nothing volatile: no paths

    assert run_pytest(tmp_path).returncode == 0   # unchanged policy: passes

    raise_the_rate(tmp_path)
    failed = run_pytest(tmp_path)
    assert failed.returncode == 1
    assert "-   基本救助: 7800.00" in failed.stdout and "+   基本救助: 8450.00" in failed.stdout
    assert "-   倾斜救助: 2520.00" in failed.stdout and "+   倾斜救助: 2130.00" in failed.stdout

    assert run_pytest(tmp_path, "--snapshot-update").returncode == 0
    updated = (tmp_path / "__snapshots__" / "test_team" / "test_benxi.txt").read_text(
        encoding="utf-8")
    assert "  基本救助: 8450.00\n  倾斜救助: 2130.00\n" in updated
    assert "  |     基本救助支付比例: 65%\n" in updated


def test_a_failure_shows_the_diff_with_the_plugin_loaded_from_its_entry_point(tmp_path):
    """Issue 24 item 12: loaded from its entry point (an editable install: this project's
    own snapshots, a team's checkout), pytest did not rewrite the plugin's assert and a
    changed settlement failed with a bare AssertionError. bx-0001: 基本救助 60% × 13,000
    = 7,800 becomes 65% × 13,000 = 8,450 (§(五))."""
    team_folder(tmp_path)
    assert run_pytest(tmp_path, "--snapshot-update", autoload=True).returncode == 0
    raise_the_rate(tmp_path)
    failed = run_pytest(tmp_path, autoload=True)
    assert failed.returncode == 1
    assert "the settlements differ from the snapshot" in failed.stdout
    assert "-   基本救助: 7800.00" in failed.stdout and "+   基本救助: 8450.00" in failed.stdout
    assert "\x1b[" not in failed.stdout          # syrupy's per-character colours stripped
