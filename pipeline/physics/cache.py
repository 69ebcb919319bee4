"""On-disk cache of derived model arrays, so that only the first process builds them.

Every worker process needs the same rest-frame libraries and line grid, which take
seconds to derive from the package data files. The first process to build them saves
each array as ``<name>-<key>.<field>.npy`` in the cache directory; later processes
read the files back (a fraction of a second for ~70 MB).

* Directory: ``$SPECTROFLOW_CACHE``, default ``~/.cache/spectroflow``; set it to
  ``off`` or to an empty string to disable the cache.
* Key: a hash of ``deps`` -- everything the arrays depend on (data-file stamps from
  :func:`file_stamp`, grid parameters, module constants, a derivation version the
  caller bumps when its code changes) -- plus the numpy version and this module's
  format version. A changed input gets a new file name; stale files are never read.
* Writes are atomic (temp file in the same directory, then ``os.replace``), so
  concurrent workers at most build the same arrays twice and never read a partial file.
* A missing, truncated or unreadable file is rebuilt; an unwritable directory only
  costs the rebuild (logged at debug level). Nothing is ever downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

ENV_VAR = "SPECTROFLOW_CACHE"
#: Bump when the file layout or the key recipe changes.
FORMAT_VERSION = 1


def cache_dir() -> Path | None:
    """The cache directory (not created here), or None when caching is disabled."""
    value = os.environ.get(ENV_VAR)
    if value is None:
        return Path.home() / ".cache" / "spectroflow"
    if value.strip().lower() in ("", "off"):
        return None
    return Path(value).expanduser()


def file_stamp(path: os.PathLike) -> tuple[str, int, int]:
    """(path, size in bytes, mtime in ns): changes when the file is replaced or edited."""
    st = os.stat(path)
    return str(path), st.st_size, st.st_mtime_ns


def cache_key(name: str, deps: Sequence) -> str:
    """Hex digest of name, deps, numpy version and format version.

    Arrays in ``deps`` are hashed by dtype, shape and bytes (their repr rounds);
    everything else by ``repr``, so deps must have a deterministic repr.
    """
    h = hashlib.sha256(f"{FORMAT_VERSION}|{np.__version__}|{name}".encode())
    for d in deps:
        if isinstance(d, np.ndarray):
            h.update(f"|{d.dtype.str}{d.shape}".encode() + np.ascontiguousarray(d).tobytes())
        else:
            h.update(f"|{d!r}".encode())
    return h.hexdigest()[:24]


def cached_arrays(
    name: str, fields: Sequence[str], deps: Sequence, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Arrays ``fields`` from the cache, or from ``build()`` (then saved).

    ``build`` returns a dict with exactly ``fields`` as keys; arrays must not hold
    Python objects. Cached arrays come back as read-only ndarrays backed by memory
    maps (pages shared by all processes); built ones are marked read-only too, so
    callers see the same thing either way.
    """
    root = cache_dir()
    if root is None:
        return _read_only(build())
    key = cache_key(name, deps)
    paths = {f: root / f"{name}-{key}.{f}.npy" for f in fields}
    arrays = _load(paths)
    if arrays is None:
        arrays = _read_only(build())
        if set(arrays) != set(fields):
            raise ValueError(f"{name}: build() gave fields {sorted(arrays)}, expected {sorted(fields)}")
        _save(root, paths, arrays)
    return arrays


def _load(paths: dict[str, Path]) -> dict[str, np.ndarray] | None:
    """All arrays, read-only, or None if any is missing or damaged.

    Read into process memory rather than memory-mapped: numpy's own large
    allocations get transparent huge pages, and the per-spectrum template gathers
    ran ~12 % slower from a file-backed map (measured on the generation benchmark).
    """
    arrays = {}
    for field, path in paths.items():
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(f)
                expected = f.tell() + int(np.prod(shape)) * dtype.itemsize
                if path.stat().st_size != expected:  # truncated, or longer than its header says
                    log.debug("cache file %s has the wrong size; rebuilding", path)
                    return None
                f.seek(0)
                arrays[field] = np.load(f, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError) as exc:  # garbled file
            log.debug("cache file %s unreadable (%s); rebuilding", path, exc)
            return None
    return _read_only(arrays)


def _save(root: Path, paths: dict[str, Path], arrays: dict[str, np.ndarray]) -> None:
    """Write each array atomically; on any OS error give up quietly (cache is optional)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        for field, path in paths.items():
            _write_atomic(path, arrays[field])
    except OSError as exc:
        log.debug("cannot write cache in %s (%s); continuing without it", root, exc)


def _write_atomic(path: Path, arr: np.ndarray) -> None:
    # Same directory as the target, so os.replace is an atomic rename.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; let other users share a cache dir
        with os.fdopen(fd, "wb") as f:
            np.save(f, arr, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for arr in arrays.values():
        arr.flags.writeable = False
    return arrays
