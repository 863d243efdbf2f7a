"""A `yibao` command in a process of its own, to be killed with SIGKILL mid-batch.

Shared by the durability tests (tests/audit/test_durability.py for
``eval --record``, tests/audit/test_book_durability.py for ``settle --book``):
stdout and stderr are read as they come, so the test knows which lines the
process reported before it died and how many commits it announced on stderr.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time


class KilledRun:
    def __init__(self, arguments: list[str], commit_mark: str, timeout: float):
        """Start ``yibao ARGUMENTS``; a stderr line starting ``commit_mark`` counts one commit;
        ``wait`` gives up after ``timeout`` seconds."""
        command = [sys.executable, "-m", "yibao.cli.main", *arguments]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.commit_mark = commit_mark
        self.timeout = timeout
        self.out: list[str] = []
        self.err: list[str] = []
        self.commits = 0
        self._readers = [threading.Thread(target=self._read, args=(stream, handle))
                         for stream, handle in ((self.process.stdout, self._line),
                                                (self.process.stderr, self._progress))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, handle) -> None:
        for raw in stream:
            handle(raw.decode("utf-8"))

    def _line(self, text: str) -> None:
        if text.endswith("\n"):      # a line cut short by the kill was never reported
            self.out.append(text)

    def _progress(self, text: str) -> None:
        self.err.append(text)
        if text.startswith(self.commit_mark):
            self.commits += 1

    def kill_after(self, commits: int, delay: float) -> None:
        deadline = time.monotonic() + 60
        while self.commits < commits and self.process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)

    def wait(self) -> int:
        code = self.process.wait(timeout=self.timeout)
        for reader in self._readers:
            reader.join()
        return code
