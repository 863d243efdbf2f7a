"""The run's worker: a child forked once per ``settle`` run, on the machine's other core.

It does one job (a function of its request alone, given before the fork: for the
book, audit/work_ahead.py ``prepare_sent``) for each request the settling process
submits, in order, and sends the replies back in that order.  It is forked
after the engine is loaded, so it imports and compiles nothing; requests and
replies are pickled plain values (bytes, strings, tuples), one frame each
(an 8-byte length, then the pickle), never objects with behaviour.

Each side reads its pipe in a thread of its own, into memory: the settling
process can submit the next request while the worker still writes the last
reply, and the worker can start the next job while its reply waits to be read
(a pipe holds 64 kB; a transaction's records are megabytes), so neither ever
waits for the other to read.

A worker that dies (a signal, an exception, a lost pipe) takes nothing with it:
every request is kept until its reply is read, and a request whose reply does
not come is done by the settling process itself (:meth:`RunWorker.result`),
with the same function: the same bytes, only later.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import struct
import threading
import time
from typing import Callable

_LENGTH = struct.Struct("<Q")
_GONE = None   # what a reader thread queues when its pipe ends


class RunWorker:
    """A child doing ``job`` for each request (:meth:`submit`, then :meth:`result`)."""

    def __init__(self, job: Callable):
        self.job = job
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        pid = os.fork()
        if pid == 0:   # the worker: serve until the settling process closes its end
            status = 1
            try:
                os.close(requests_write)
                os.close(replies_read)
                _serve(job, requests_read, replies_write)
                status = 0
            finally:
                os._exit(status)   # nothing of the settling process's is flushed or closed
        os.close(requests_read)
        os.close(replies_write)
        self.pid = pid
        self.alive = True
        self._requests = os.fdopen(requests_write, "wb")
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._reader = threading.Thread(target=_read_frames,
                                        args=(os.fdopen(replies_read, "rb"), self._replies),
                                        name="yibao-run-worker-replies", daemon=True)
        self._reader.start()
        self._kept: dict[int, object] = {}   # ticket → its request, until its reply is read
        self._submitted = 0
        self._answered = 0   # replies read (or given up on) so far, in ticket order
        # Seconds the worker had waited for the request of the last reply read, after
        # sending the reply before it: how long it was idle (the caller's balance).
        self.idle = 0.0

    def submit(self, request) -> int:
        """Send a request; its ticket, for :meth:`result`."""
        ticket = self._submitted
        self._submitted += 1
        self._kept[ticket] = request
        if self.alive:
            try:
                payload = pickle.dumps(request, pickle.HIGHEST_PROTOCOL)
                self._requests.write(_LENGTH.pack(len(payload)))
                self._requests.write(payload)
                self._requests.flush()
            except OSError:
                self._lost()
        return ticket

    def result(self, ticket: int):
        """The reply to ``ticket`` (waiting for it), or the job done here if the worker
        is gone.  The replies to earlier tickets not asked for are dropped."""
        request = self._kept.pop(ticket)
        while self.alive and self._answered <= ticket:
            payload = self._replies.get()
            if payload is _GONE:
                self._lost()
                break
            answered, self._answered = self._answered, self._answered + 1
            if answered == ticket:
                self.idle, reply = pickle.loads(payload)
                return reply
        for dropped in [t for t in self._kept if t < ticket]:
            del self._kept[dropped]
        self.idle = 0.0
        return self.job(request)

    def drop(self, ticket: int) -> None:
        """A request whose reply is not wanted any more (read and dropped when it comes)."""
        self._kept.pop(ticket, None)

    def _lost(self) -> None:
        self.alive = False
        try:
            self._requests.close()
        except OSError:
            pass

    def close(self) -> None:
        """End the worker (it sees the end of its requests and exits) and reap it."""
        if self.alive:
            self._lost()
        else:
            try:
                self._requests.close()
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self._reader.join()


def _read_frames(pipe, into: queue.SimpleQueue) -> None:
    """Each frame's payload queued as it arrives; _GONE at the pipe's end."""
    try:
        with pipe:
            while True:
                head = pipe.read(_LENGTH.size)
                if len(head) < _LENGTH.size:
                    break
                (length,) = _LENGTH.unpack(head)
                payload = pipe.read(length)
                if len(payload) < length:
                    break
                into.put(payload)
    except (OSError, ValueError):
        pass
    into.put(_GONE)


def _serve(job: Callable, requests_fd: int, replies_fd: int) -> None:
    # What the settling process had when it forked stays shared (copy on write) and is
    # never walked by the collector here; what a job leaves in cycles is collected after
    # it, once its reply is sent.
    gc.freeze()
    gc.disable()
    requests: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_frames, args=(os.fdopen(requests_fd, "rb"), requests),
                     daemon=True).start()
    done = None    # when the last reply was sent
    with os.fdopen(replies_fd, "wb") as replies:
        while True:
            payload = requests.get()
            idle = time.perf_counter() - done if done is not None else 0.0
            if payload is _GONE:
                return
            reply = pickle.dumps((idle, job(pickle.loads(payload))), pickle.HIGHEST_PROTOCOL)
            replies.write(_LENGTH.pack(len(reply)))
            replies.write(reply)
            replies.flush()
            gc.collect()
            done = time.perf_counter()
