"""The run's worker: a child forked once per ``settle`` run, on the machine's other core.

It does one job (a function of its request alone, given before the fork: for the
book, audit/work_ahead.py ``prepare_sent``) for each request the settling process
submits, in order, and sends the replies back in that order.  It is forked
after the engine is loaded, so it imports and compiles nothing; requests and
replies are pickled plain values (bytes, strings, tuples), never objects with
behaviour.

Each request and reply is written whole into an anonymous in-memory file
(``memfd_create``) whose descriptor is passed over a Unix socket pair
(``SCM_RIGHTS``), with the payload's length.  Neither side ever waits for the
other to read: a pipe holds 64 kB and a transaction's records are megabytes, so
over a pipe the writer would stall until the reader drained it, chunk by chunk
(and a reading thread beside busy Python code gets the interpreter's lock only
every 5 ms).  The files die with the processes: nothing is left behind by a run
that is killed.

A worker that dies (a signal, an exception, a lost socket) or hangs takes nothing
with it: a reply that does not come within ``REPLY_TIMEOUT`` (plus a generous
allowance for each item of its request) is given up on and the worker killed;
:meth:`RunWorker.result` then answers None, and the settling process does that
request's work itself, as it does everything the worker declines: the same
bytes, only later.  Ending the run never waits on a worker for long either
(:meth:`RunWorker.close`).
"""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import signal
import socket
import struct
import threading
import time
from typing import Callable

# The payload's length; (a reply) how long the worker was idle before its request, and
# when it was sent (time.monotonic: one clock for every process of the machine).
_HEADER = struct.Struct("<Qdd")

# How long a reply may keep the settling process waiting before the worker is given up
# on (killed; its request done by the settling process): a floor, and per item of the
# request (a claim), some fifty times what the worker takes for one (≈ 190 µs) — a
# busy machine slows it, a worker stuck in a lock never answers.
REPLY_TIMEOUT = 30.0
REPLY_TIMEOUT_PER_ITEM = 0.01
# How long closing the run waits for the worker to end once told to, before killing it.
CLOSE_TIMEOUT = 5.0


# Threads of ours that may run beside a fork: the SQLite store's checkpointer
# (audit/sqlite_store.py), which touches nothing the worker uses (its own connection).
_OUR_THREADS = frozenset({"yibao-checkpoint"})


def available() -> bool:
    """Whether a worker can run here: fork, in-memory files and descriptor passing; a
    second core to run on; and no thread but ours (a program with threads of its own may
    hold a lock at the fork that the worker would then wait for forever, as
    audit/verify_ahead.py reasons)."""
    if not (hasattr(os, "fork") and hasattr(os, "memfd_create")
            and hasattr(socket, "send_fds")):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return False
    current = threading.current_thread()
    return all(thread is current or thread.name in _OUR_THREADS
               for thread in threading.enumerate())


class RunWorker:
    """A child doing ``job`` for each request (:meth:`submit`, then :meth:`result`).

    Forked when made: a caller that wants the child to open files of its own (the book,
    on a connection of its own) makes it before opening them itself, while no thread
    runs (audit/work_ahead.py, ``BookReads``)."""

    def __init__(self, job: Callable):
        self.job = job
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Every object alive now moved out of the collector's reach, in both processes:
        # a collection would write to each one's header, and every page it writes after
        # the fork is copied (the engine, the policy: tens of MB, shared until then).
        gc.freeze()
        pid = os.fork()
        if pid == 0:   # the worker: serve until the settling process closes its end
            status = 1
            try:
                parent_end.close()
                _serve(job, child_end)
                status = 0
            finally:
                os._exit(status)   # nothing of the settling process's is flushed or closed
        child_end.close()
        self.pid = pid
        self.alive = True
        self._socket = parent_end
        self._kept: dict[int, float] = {}   # ticket → how long its reply may take, until read
        self._submitted = 0
        self._answered = 0   # replies read (or given up on) so far, in ticket order
        # Seconds the worker had waited for the request of the last reply read, after
        # sending the reply before it: how long it was idle; and how long that reply had
        # been ready before it was read (the caller's balance, both).
        self.idle = 0.0
        self.ready_for = 0.0

    def submit(self, request, items: int = 0) -> int:
        """Send a request of ``items`` items (its reply's allowance); its ticket, for
        :meth:`result`."""
        ticket = self._submitted
        self._submitted += 1
        self._kept[ticket] = REPLY_TIMEOUT + REPLY_TIMEOUT_PER_ITEM * items
        if self.alive:
            try:
                _send(self._socket, request, 0.0)
            except OSError:
                self._lost()
        return ticket

    def result(self, ticket: int):
        """The reply to ``ticket`` (waiting for it), or None if the worker is gone or gave
        no reply in time (then killed): the caller does that request's work itself.  The
        replies to earlier tickets not asked for are dropped."""
        allowance = self._kept.pop(ticket)
        while self.alive and self._answered <= ticket:
            try:
                self._socket.settimeout(allowance)
                found = _receive(self._socket)
            except OSError:     # (socket.timeout among them: a worker that hangs)
                found = None
            if found is None:
                self._lost()
                break
            answered, self._answered = self._answered, self._answered + 1
            if answered == ticket:
                reply, self.idle, self.ready_for = found
                return reply
        for dropped in [t for t in self._kept if t < ticket]:
            del self._kept[dropped]
        self.idle = self.ready_for = 0.0
        return None

    def drop(self, ticket: int) -> None:
        """A request whose reply is not wanted any more (read and dropped when it comes)."""
        self._kept.pop(ticket, None)

    def _lost(self) -> None:
        """Given up on: killed (it may be alive and stuck; its replies are not wanted)."""
        self.alive = False
        self._socket.close()
        _kill(self.pid)

    def close(self) -> None:
        """End the worker (it sees the end of its requests and exits) and reap it; one
        that has not ended within CLOSE_TIMEOUT (busy with a request no one will read,
        or stuck) is killed."""
        if self.alive:
            self.alive = False
            self._socket.close()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        try:
            while os.waitpid(self.pid, os.WNOHANG)[0] == 0:
                if time.monotonic() > deadline:
                    _kill(self.pid)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.001)
        except ChildProcessError:
            pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass     # it has ended already


def _send(connection: socket.socket, value, idle: float) -> None:
    """``value`` pickled straight into an in-memory file (no pickle in memory beside it:
    a reply is megabytes), its descriptor sent with the length."""
    memory = os.memfd_create("yibao-run-worker", os.MFD_CLOEXEC)
    try:
        with open(memory, "wb", closefd=False) as file:
            pickle.dump(value, file, pickle.HIGHEST_PROTOCOL)
            length = file.tell()
        socket.send_fds(connection, [_HEADER.pack(length, idle, time.monotonic())], [memory])
    finally:
        os.close(memory)


def _receive(connection: socket.socket) -> tuple[object, float, float] | None:
    """(value, idle, how long it had been sent when it was received) of the next message,
    or None at the end of the connection.  The file is mapped, not read: the pickle is
    read where the writer wrote it."""
    header, descriptors, _, _ = socket.recv_fds(connection, _HEADER.size, 1)
    received = time.monotonic()
    if len(header) < _HEADER.size or not descriptors:
        for descriptor in descriptors:
            os.close(descriptor)
        return None
    length, idle, sent = _HEADER.unpack(header)
    try:
        with mmap.mmap(descriptors[0], length, prot=mmap.PROT_READ) as mapped:
            return pickle.loads(mapped), idle, max(0.0, received - sent)
    finally:
        os.close(descriptors[0])


def _serve(job: Callable, connection: socket.socket) -> None:
    # What the settling process had when it forked stays shared (copy on write) and is
    # never walked by the collector here (frozen before the fork); what a job leaves in
    # cycles is collected after it, once its reply is sent.
    gc.disable()
    done = None    # when the last reply was sent
    while True:
        found = _receive(connection)
        idle = time.perf_counter() - done if done is not None else 0.0
        if found is None:
            return
        _send(connection, job(found[0]), idle)
        gc.collect()
        done = time.perf_counter()
