"""Keep freed heap memory in the process instead of returning it to the kernel.

The hot paths allocate and free batch-sized arrays (tens of MB) many times a
second. glibc serves such sizes with fresh ``mmap`` calls and unmaps them on free,
so every batch pays ~10,000 page faults per array to zero new pages: on the
generation benchmark that cost a third of the time (5,500 -> 8,200 spectra/s per
process). Raising the mmap and trim thresholds makes freed blocks reusable; the
process's RSS then stays at its high-water mark, which it reached anyway.

Dask runs tasks in a worker thread, and glibc gives non-main threads their own
arenas of at most 64 MB heaps: larger blocks (a 167 MB store chunk) bypass them and
are mmap'd afresh on every task whatever the threshold. One arena for the process
(``M_ARENA_MAX = 1``) lets every thread reuse freed blocks: a 294 MB
allocate-touch-free cycle in a thread went from 70 ms to 9 ms. glibc fixes a
thread's arena at its first allocation, so the arena limit works only from the
process's start: ``ENVIRONMENT`` is what to spawn worker processes with
(``flows/runtime/cluster.py`` does so for local clusters).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

# mallopt parameters from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Above the largest batch array (1,024 x 10,240 float32 = 42 MB); 256 MB measured
#: ~3 % faster than glibc's documented dynamic maximum of 32 MB.
MMAP_THRESHOLD = 256 * 1024 * 1024
TRIM_THRESHOLD = 1024 * 1024 * 1024
#: glibc tunables with the same effect from process start (see module doc).
ENVIRONMENT = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
               "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Apply the thresholds once per process; False where libc has no ``mallopt``."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return all(bool(mallopt(param, value)) for param, value in (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_ARENA_MAX, 1)))
