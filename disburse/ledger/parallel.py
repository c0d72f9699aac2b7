"""Run a generator on the machine's other core while this process writes.

A bulk post spends most of its time in two independent kinds of work: the database inserting
rows (one core) and Python building the canonical texts and the hash chain (another core,
if it could). Python threads cannot share that work (the hashing holds the interpreter lock),
so the generator runs in a forked child process that inherits the batch for free
(copy-on-write) and sends back what it yields through a pipe, chunk by chunk, while the parent
inserts the chunks already received.

The child only computes and writes to its pipe: it never touches the database connections it
inherited and leaves through ``os._exit`` (no finalisers, no atexit handlers, nothing flushed
twice). Where ``fork`` does not exist, in a process running other threads (a lock another
thread holds at the fork would stay held in the child forever), or when the work is small, the
generator simply runs here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import TypeVar

try:
    import fcntl
except ImportError:  # not on Windows, which has no fork either
    fcntl = None  # type: ignore[assignment]

Item = TypeVar("Item")

PIPE_BUFFER_BYTES = 1 << 20


class WorkerFailed(RuntimeError):
    """The child process raised, or died, before it had sent everything."""


def fork_available() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


@contextlib.contextmanager
def produced_in_parallel(produce: Callable[[], Iterator[Item]], *, parallel: bool) -> Iterator[Iterator[Item]]:
    """The items ``produce()`` yields, computed in a forked child when ``parallel`` (and fork
    exists), here otherwise. Leaving the ``with`` block early stops the child."""
    if not parallel or not fork_available():
        yield produce()
        return
    read_end, write_end = os.pipe()
    _widen(write_end)
    # Objects that exist now are never collected in the child: its collector would otherwise
    # touch every one and copy every page the parent holds.
    gc.freeze()
    try:
        pid = os.fork()
    except BaseException:
        gc.unfreeze()
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child
        _child(produce, read_end, write_end)
    gc.unfreeze()
    os.close(write_end)
    finished = False
    try:
        with open(read_end, "rb", buffering=PIPE_BUFFER_BYTES) as source:
            yield _received(source)
        finished = True
    finally:
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise WorkerFailed(f"the worker process ended with exit code {os.waitstatus_to_exitcode(status)}")


def _widen(pipe_end: int) -> None:
    """Let the child run an item or so ahead of the parent: as much pipe buffer as the system
    allows an unprivileged process (Linux; elsewhere the default stays)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe_end, set_size, PIPE_BUFFER_BYTES)


def _received(source) -> Iterator:  # type: ignore[no-untyped-def]
    while True:
        try:
            kind, payload = pickle.load(source)
        except EOFError:
            raise WorkerFailed("the worker process stopped before it had sent everything") from None
        if kind == "item":
            yield payload
        elif kind == "done":
            return
        else:
            raise WorkerFailed(f"the worker process failed:\n{payload}")


def _child(produce: Callable[[], Iterator], read_end: int, write_end: int) -> None:
    status = 0
    try:
        os.close(read_end)
        gc.disable()
        with open(write_end, "wb", buffering=PIPE_BUFFER_BYTES) as sink:
            try:
                for item in produce():
                    pickle.dump(("item", item), sink, protocol=pickle.HIGHEST_PROTOCOL)
                    # Whole items only: an item's tail left in the buffer would keep the parent
                    # waiting until the next item is computed, and nothing would overlap.
                    sink.flush()
                pickle.dump(("done", None), sink, protocol=pickle.HIGHEST_PROTOCOL)
            except BrokenPipeError:
                status = 1  # the parent stopped reading: it has given up on this work
            except BaseException:
                status = 1
                pickle.dump(("error", traceback.format_exc()), sink, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        status = 1
    finally:
        os._exit(status)
