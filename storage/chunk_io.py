"""Whole-chunk reads of local stores, decoded straight into the output array.

Scoring reads every chunk of the survey store once, whole. Through zarr's async
codec pipeline a 8,192 x 10,240 float16 chunk pair (flux, ivar) took 0.4-1.6 s on
this machine; reading the two files and Blosc-decoding them into preallocated
arrays takes ~0.11 s (same bytes, same result: ``tests/storage/test_chunk_io.py``).
The fast path covers exactly what ``storage.store`` writes -- Zarr v3, regular
chunks along the spectrum axis only, little-endian bytes + one Blosc codec, on a
local directory; anything else (object storage, another codec, a chunk never
written) goes through zarr.

A store larger than memory is read from disk: ``read_ahead`` asks the kernel
(``posix_fadvise(WILLNEED)``, from a daemon thread) to fetch the next chunks' files
into the page cache while the worker computes on this one, so the disk wait
overlaps compute instead of alternating with it.
"""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path

import numcodecs.blosc
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec

#: Blosc1 frame header: 4 flag bytes, then uint32 LE nbytes, blocksize, cbytes
#: (c-blosc, README_HEADER.rst).
BLOSC_HEADER = 16
#: Bytes per read-ahead request (see ``_advise``).
ADVISE_BYTES = 8 << 20


def chunk_file(array: zarr.Array, index: int) -> Path | None:
    """The local file of chunk ``index`` (spectrum axis) of ``array`` if the fast path
    applies to it (see module doc), else None."""
    root = getattr(array.store, "root", None)
    meta = array.metadata
    if root is None or meta.zarr_format != 3 or array.chunks[1:] != array.shape[1:]:
        return None
    codecs = meta.codecs
    if not (len(codecs) == 2 and isinstance(codecs[0], BytesCodec) and isinstance(codecs[1], BloscCodec)
            and (codecs[0].endian is None or codecs[0].endian.value == "little")
            and array.dtype.kind in "fiub" and np.little_endian):
        return None
    return Path(root, array.path, meta.encode_chunk_key((index,) + (0,) * (array.ndim - 1)))


def read_chunk(array: zarr.Array, index: int) -> np.ndarray:
    """Rows of chunk ``index`` of ``array`` (the last chunk may be shorter)."""
    size = array.chunks[0]
    rows = slice(index * size, min((index + 1) * size, array.shape[0]))
    path = chunk_file(array, index)
    if path is None or not path.is_file():
        return array[rows]
    out = np.empty(array.chunks, dtype=array.dtype)  # stored chunks are full-size, also the last
    with open(path, "rb") as handle:
        data = handle.read()
    nbytes, _, cbytes = struct.unpack_from("<III", data, 4) if len(data) >= BLOSC_HEADER else (0, 0, 0)
    if (nbytes, cbytes) != (out.nbytes, len(data)):  # truncated or foreign: Blosc would not notice
        raise ValueError(f"{path}: chunk {index} of {array.path} is damaged ({len(data)} bytes on disk, "
                         f"header says {cbytes} compressed, {nbytes} decoded; expected {out.nbytes})")
    numcodecs.blosc.decompress(data, out)
    return out[: rows.stop - rows.start]


def read_rows(group: zarr.Group, names, index: int) -> dict[str, np.ndarray]:
    """{name: chunk ``index`` of group[name]} for per-spectrum arrays ``names``."""
    return {name: read_chunk(group[name], index) for name in names}


def read_ahead(group: zarr.Group, names, indices) -> threading.Thread | None:
    """Start fetching chunks ``indices`` of arrays ``names`` into the page cache in the
    background; returns the thread, or None where there is nothing to fetch."""
    paths = [p for i in indices for name in names if (p := chunk_file(group[name], i)) is not None]
    if not paths or not hasattr(os, "posix_fadvise"):
        return None
    thread = threading.Thread(target=_advise, args=(paths,), daemon=True, name="spectroflow-read-ahead")
    thread.start()
    return thread


def _advise(paths: list[Path]) -> None:
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # not written: nothing to fetch
        try:
            # one call fetches at most ~8 MB here (the kernel's readahead cap): ask per slice
            for offset in range(0, os.fstat(fd).st_size, ADVISE_BYTES):
                os.posix_fadvise(fd, offset, ADVISE_BYTES, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)
