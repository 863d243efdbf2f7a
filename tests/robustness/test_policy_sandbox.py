"""A policy file is data: it never runs code, reaches the network or reads other files.

``extends ID`` names a policy id (letters, digits, hyphens), whose file is
``ID.policy`` in the same folder: nothing else is ever opened.  While a
version chain loads, every way of opening a file is recorded and every way
of reaching the network or starting a process fails the test.
"""

from __future__ import annotations

import builtins
import io
import os
import pathlib
import shutil
import socket
import subprocess

import pytest

from robustness.claim_space import POLICIES
from yibao.api import load_engine
from yibao.core.diagnostics import PolicyError
from yibao.dsl.loader import load_policy
from yibao.dsl.parser import GRAMMAR

HEAD = 'policy sandbox-2024 {{ effective 2024-01-01 {extra}}}\nclause §1 "条款"\n'


class Forbidden(Exception):
    pass


@pytest.fixture
def opened(monkeypatch):
    """Paths opened while the test runs; sockets and processes raise Forbidden."""
    paths: list[pathlib.Path] = []

    def recording(original):
        def wrapper(file, *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)):
                paths.append(pathlib.Path(os.fsdecode(file)).resolve())
            return original(file, *args, **kwargs)
        return wrapper

    def read_bytes(self):
        paths.append(pathlib.Path(self).resolve())
        return original_read_bytes(self)

    def refuse(*args, **kwargs):
        raise Forbidden("a policy reached for the network or a process")

    original_read_bytes = pathlib.Path.read_bytes
    monkeypatch.setattr(builtins, "open", recording(builtins.open))
    monkeypatch.setattr(io, "open", recording(io.open))
    monkeypatch.setattr(os, "open", recording(os.open))
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    return paths


def _policy_reads(paths) -> set[pathlib.Path]:
    """What was read besides the grammar files of yibao itself."""
    grammar_folder = GRAMMAR.resolve().parent
    return {p for p in paths if not (p.parent == grammar_folder and p.suffix == ".lark")}


def test_a_version_chain_reads_its_own_files_and_nothing_else(tmp_path, opened):
    """jiamusi-2022 extends jiamusi-2021 (the ids in its header): those two files only,
    not the other policy sitting in the same folder."""
    for name in ("jiamusi-2021", "jiamusi-2022", "benxi-2023"):
        shutil.copy(POLICIES / f"{name}.policy", tmp_path)
    opened.clear()
    engine = load_engine(tmp_path / "jiamusi-2022.policy")
    assert [v.policy_id for v in engine.versions] == ["jiamusi-2021", "jiamusi-2022"]
    assert _policy_reads(opened) == {(tmp_path / "jiamusi-2021.policy").resolve(),
                                     (tmp_path / "jiamusi-2022.policy").resolve()}


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "..", "~root",
                                    "etc/passwd", "passwd.policy", "C:\\x"])
def test_extends_takes_a_policy_id_never_a_path(tmp_path, opened, target):
    path = tmp_path / "escape.policy"
    path.write_text(HEAD.format(extra="").replace("sandbox-2024", f"sandbox-2024 extends {target}"),
                    encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    first = raised.value.diagnostics[0]
    start = len("policy sandbox-2024 extends ") + 1
    # A syntax error at the first character that cannot be part of a policy id.
    assert first.code.startswith("P1") and first.span.line == 1
    assert start <= first.span.column <= start + len(target)
    assert _policy_reads(opened) == {path.resolve()}


def test_an_id_with_no_file_beside_it_reads_nothing_more(tmp_path, opened):
    """``extends passwd`` looks for passwd.policy in the folder; absent, the file
    stands alone (its amendments stay unspecified) and nothing else is opened."""
    path = tmp_path / "alone.policy"
    path.write_text(HEAD.format(extra="").replace("sandbox-2024", "sandbox-2024 extends passwd"),
                    encoding="utf-8")
    assert load_policy(path).latest.extends == "passwd"
    assert _policy_reads(opened) == {path.resolve()}


@pytest.mark.parametrize("code", [
    "__import__('os').system('touch {marker}')",
    "eval(\"open('{marker}', 'w')\")",
    "exec('import os')",
    "{{{{ lambda: 1 }}}}",
])
def test_code_in_a_policy_is_a_syntax_error_and_never_runs(tmp_path, opened, code):
    marker = tmp_path / "ran"
    path = tmp_path / "code.policy"
    path.write_text(HEAD.format(extra="") + code.format(marker=marker) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.diagnostics[0].code in ("P100", "P101")
    assert raised.value.diagnostics[0].span.line == 3
    assert not marker.exists()


def test_code_quoted_in_a_policy_is_just_text(tmp_path, opened):
    marker = tmp_path / "ran"
    title = f"__import__('os').system('touch {marker}')"
    path = tmp_path / "quoted.policy"
    path.write_text(HEAD.format(extra=f'title "{title}" '), encoding="utf-8")
    assert load_policy(path).latest.title == title
    assert not marker.exists()
    assert _policy_reads(opened) == {path.resolve()}
