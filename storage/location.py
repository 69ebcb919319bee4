"""Where stores and catalogues live: a local path (the default) or an fsspec URL.

A URL (``s3://bucket/survey.zarr``, ``gs://...``, ``memory://...``) lets workers on
many nodes share one store; object storage needs its fsspec package (``pip install
s3fs`` for s3://). Local paths keep the POSIX guarantees the writers rely on: a store
template or a catalogue file is written under a temporary name and renamed. Object
stores have no rename, but an object PUT is atomic, so there files are written in
place (and a store's template is complete once its chunk records exist).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from pathlib import Path


def is_url(path) -> bool:
    """True for an fsspec URL other than a plain local ``file://`` one."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def filesystem(path):
    """(fsspec filesystem, path inside it) of a URL."""
    import fsspec

    return fsspec.core.url_to_fs(str(path))


def join(path, *parts: str) -> str:
    """``path/part/...``: posix joins for URLs, os joins for local paths."""
    return posixpath.join(str(path), *parts) if is_url(path) else os.path.join(str(path), *parts)


def unwritable_reason(path, make_parents: bool = False) -> str | None:
    """None if ``path`` (a file, store or directory to create) can be written; otherwise
    why not. ``make_parents``: the writer creates missing directories above ``path``, so
    the nearest existing one must be a writable directory; otherwise ``path``'s parent
    must be. URLs are not checked (the object store answers at the first write)."""
    if is_url(path):
        return None
    target = Path(path).absolute()
    parent = next(p for p in (target, *target.parents) if p.exists()) if make_parents else target.parent
    if parent.exists() and not parent.is_dir():
        return f"{parent} is a file, not a directory"
    if not parent.is_dir():
        return f"directory {parent} does not exist"
    if not os.access(parent, os.W_OK):
        return f"directory {parent} is not writable"
    return None


def require_writable(path, make_parents: bool = False) -> None:
    """Raise ValueError("cannot write PATH: why") unless ``unwritable_reason`` is None."""
    reason = unwritable_reason(path, make_parents)
    if reason:
        raise ValueError(f"cannot write {path}: {reason}")


def exists(path) -> bool:
    if is_url(path):
        fs, inner = filesystem(path)
        return fs.exists(inner)
    return Path(path).exists()


def remove(path) -> None:
    """Delete a file or a whole directory tree (a store), local or remote."""
    if is_url(path):
        fs, inner = filesystem(path)
        fs.rm(inner, recursive=True)
    elif Path(path).is_dir():
        import shutil

        shutil.rmtree(path)
    else:
        Path(path).unlink(missing_ok=True)


def size_bytes(path) -> int:
    """Bytes stored under ``path``."""
    if is_url(path):
        fs, inner = filesystem(path)
        return int(fs.du(inner))
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def resolved(path) -> str:
    """An absolute local path, or the URL itself (for provenance)."""
    return str(path) if is_url(path) else str(Path(path).resolve())


@contextlib.contextmanager
def written(path):
    """A local file path to write ``path``'s content to; on success it becomes ``path``
    at once (a rename locally, one upload to a URL), so a reader never sees half a file."""
    if is_url(path):
        with tempfile.TemporaryDirectory(prefix="spectroflow-") as tmp:
            local = os.path.join(tmp, posixpath.basename(str(path)))
            yield local
            fs, inner = filesystem(path)
            fs.put_file(local, inner)
    else:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        local = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            yield str(local)
            os.replace(local, target)
        finally:
            local.unlink(missing_ok=True)


def open_read(path):
    """A binary file object for reading ``path`` (local or URL)."""
    if is_url(path):
        fs, inner = filesystem(path)
        return fs.open(inner, "rb")
    return open(path, "rb")
