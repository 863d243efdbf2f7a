"""Issue 21 item 8: reading a policy file always ends, and a byte order mark is accepted.

Only a regular file is read: a named pipe (which would wait for a writer
forever), /dev/zero (which never ends) and a folder are refused with P115 and a
hint.  Never more than the size limit plus one byte is read, whatever size the
file reports.  A file that starts with a UTF-8 BOM (as Windows Notepad saves
it) checks like the same file without one.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from yibao.core.diagnostics import PolicyError
from yibao.dsl import limits
from yibao.dsl.limits import MAX_SOURCE_BYTES, read_bounded_text
from yibao.dsl.loader import load_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENXI = ROOT / "policies" / "benxi-2023.policy"


def yibao(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "yibao.cli.main", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def refused(path) -> tuple[str, str, str]:
    with pytest.raises(PolicyError) as raised:
        read_bounded_text(pathlib.Path(path))
    [error] = raised.value.diagnostics
    return error.code, error.message, error.hint


def test_a_named_pipe_is_p115_at_once_not_a_hang(tmp_path):
    fifo = tmp_path / "claims.policy"
    os.mkfifo(fifo)
    # In a child process first: before the fix it waited for a writer until the timeout.
    done = yibao("check", str(fifo), timeout=20)
    assert done.returncode == 2
    assert f"error[P115]: {fifo} is a named pipe, not a policy file" in done.stderr
    code, message, hint = refused(fifo)
    assert (code, message) == ("P115", f"{fifo} is a named pipe, not a policy file")
    assert "save it to a file first" in hint


def test_dev_zero_is_p115_at_once_not_an_endless_read():
    # In a child process first: before the fix it read (and kept) zeros until the timeout.
    done = yibao("check", "/dev/zero", timeout=20)
    assert done.returncode == 2
    assert "error[P115]: /dev/zero is a device, not a policy file" in done.stderr
    assert refused("/dev/zero")[:2] == ("P115", "/dev/zero is a device, not a policy file")


def test_a_folder_is_p115(tmp_path):
    assert refused(tmp_path)[:2] == ("P115", f"{tmp_path} is a folder, not a policy file")


def test_at_most_the_limit_plus_one_byte_is_read(tmp_path, monkeypatch):
    """A 4 MB file is refused (P110) after reading 512 KB + 1 bytes, not 4 MB."""
    big = tmp_path / "big.policy"
    big.write_bytes(b"#" * (8 * MAX_SOURCE_BYTES))
    asked = []
    real_read = os.read

    def counting_read(descriptor, size):
        data = real_read(descriptor, size)
        asked.append(len(data))
        return data

    monkeypatch.setattr(limits.os, "read", counting_read)
    assert refused(big)[0] == "P110"
    assert sum(asked) == MAX_SOURCE_BYTES + 1


def test_a_policy_starting_with_a_byte_order_mark_checks_like_the_same_file_without(tmp_path):
    text = BENXI.read_text(encoding="utf-8")
    with_bom = tmp_path / "benxi-2023.policy"
    with_bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_bounded_text(with_bom) == text
    loaded = load_policy(with_bom)
    assert loaded.latest.policy_id == "benxi-2023"
    assert loaded.latest.source_sha256 == load_policy(BENXI).latest.source_sha256
    done = yibao("check", str(with_bom))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok benxi-2023: ")


def test_a_caret_on_the_first_line_of_a_file_with_a_bom_is_not_shifted(tmp_path):
    path = tmp_path / "t-2023.policy"
    path.write_bytes(b"\xef\xbb\xbf" + "polcy t-2023 {\n}\n".encode())
    done = yibao("check", str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines()[1:5] == [
        f"  --> {path}:1:1", "  |", "1 | polcy t-2023 {", "  | ^^^^^"]
