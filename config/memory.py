"""glibc's allocator set for a node that moves big files through a handful of threads.

A node's peak resident memory is held to 100 MiB (issue 23) while a 1 GiB dispatch goes
through it, a few hundred KiB at a time, in the event loop, the executor's threads and the
database driver's. Left alone, glibc gives each thread that allocates at the same time its own
arena (up to eight per core), and each keeps the buffers freed in it resident for its thread's
next use. Two arenas (the event loop's thread and one shared by the workers) took 1-3 MiB off
each node's peak, idle or under a 256 MiB dispatch. Mapping buffers of 256 KiB or more on
their own (``M_MMAP_THRESHOLD``) gained nothing more once the transfer's buffers were 256 KiB,
and costs a page fault per page of every such buffer: not set.

Set once at the start of a serving process, before its threads exist. An operator's own
``MALLOC_ARENA_MAX`` (glibc's environment variable) wins.
"""

from __future__ import annotations

import os

#: mallopt's parameter (glibc's malloc.h).
M_ARENA_MAX = -8
ARENAS = 2


def tune_allocator() -> bool:
    """Limit glibc to ``ARENAS`` arenas; False where the C library is another, or the
    operator's environment set the limit. ctypes (0.4 MiB) is loaded here, by the serving
    processes only, not by every ``congvan`` command."""
    if "MALLOC_ARENA_MAX" in os.environ or not _glibc():
        return False
    import ctypes

    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, ARENAS) == 1)


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False
