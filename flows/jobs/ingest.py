"""Ingest glue without Prefect: survey files -> a survey store on the model grid.

1. ``index_files``: read each file once to count its spectra and their TARGETIDs;
   an unreadable file (any exception) becomes a quarantine entry (file and reason),
   not a crash.
2. ``plan`` / ``prepare``: rows are assigned file by file in the order given;
   TARGETIDs seen more than once get the DUPLICATE_TARGETID bit; the template holds
   this plan (targetid, source_file, source_row, zwarn_input) before any chunk work.
3. ``fill_chunk``: read the files behind one chunk's rows, regrid them
   (``pipeline.sampling.regrid``), pack (``storage.survey_store``) and write; idempotent.
   A file that fails there (any exception: changed or damaged since indexing) gives
   its rows BAD_INPUT | NODATA and the chunk's result names it with the reason.
4. ``finish``: the orchestrator adds those files to the store's quarantine list (one
   writer, after the chunks) and returns the list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.assess.zwarning import ZWarn
from pipeline.physics.constants import FLUX_UNIT_TEXT
from pipeline.sampling.grid import model_grid
from pipeline.sampling.regrid import to_model_grid_scaled
from storage import store, survey_store
from storage.provenance import code_version, dependency_versions
from storage.readers import FORMATS, ReaderError, read

DEFAULT_CHUNK = 4096
RESUME_KEYS = ("store", "ingest", "code_version")
#: Store attribute listing the files that could not be read.
QUARANTINE = "quarantine"


class NothingReadable(ValueError):
    """No file of a request could be read; ``quarantine`` says why for each."""

    def __init__(self, message: str, quarantine: list[dict]):
        super().__init__(message)
        self.quarantine = quarantine


@dataclass(frozen=True)
class IngestRequest:
    """Ingest ``files`` (in this order) into the survey store ``out``."""

    files: tuple[str, ...]
    out: str
    format: str = "auto"
    chunk: int = DEFAULT_CHUNK

    def __post_init__(self):
        object.__setattr__(self, "files", expand_patterns(self.files))
        if not self.files:
            raise ValueError("no input files given")
        if self.chunk < 1:
            raise ValueError(f"--chunk must be at least 1, got {self.chunk}")
        if self.format not in FORMATS:
            raise ValueError(f"--format {self.format!r}: choose {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")

    def files_hash(self) -> str:
        return hashlib.sha256("\n".join(str(Path(f).resolve()) for f in self.files).encode()).hexdigest()[:16]


def expand_patterns(files) -> tuple[str, ...]:
    """Files, with glob patterns (``incoming/*.fits``: what a scheduled deployment passes)
    expanded in sorted order; a pattern that matches nothing raises ValueError."""
    import glob

    out = []
    for name in files:
        if glob.has_magic(str(name)):
            matched = sorted(glob.glob(str(name)))
            if not matched:
                raise ValueError(f"no file matches {name}")
            out += matched
        else:
            out.append(str(name))
    return tuple(out)


def index_files(paths, format: str = "auto") -> list[dict]:
    """Per file: {"path", "targetid": [...]} or {"path", "error": reason}; any exception
    while reading a file quarantines that file, never the batch."""
    out = []
    for path in paths:
        try:
            raw = read(path, format)
            out.append({"path": str(path), "targetid": raw.targetid.tolist()})
        except Exception as err:
            out.append({"path": str(path), "error": reason(path, err)})
    return out


def reason(path, err: Exception) -> str:
    """A quarantine reason: the ReaderError's message (it names the file), or the file,
    the exception's type and its message."""
    return str(err) if isinstance(err, ReaderError) else f"{path}: {type(err).__name__}: {err}"


def plan(index: list[dict]) -> dict[str, np.ndarray]:
    """Per-spectrum plan arrays from the file index (readable files only, in order)."""
    good = [entry for entry in index if "error" not in entry]
    targetid = np.array([t for e in good for t in e["targetid"]], dtype=np.int64)
    source_file = np.concatenate([np.full(len(e["targetid"]), i, np.int32) for i, e in enumerate(good)] or
                                 [np.zeros(0, np.int32)])
    source_row = np.concatenate([np.arange(len(e["targetid"]), dtype=np.int32) for e in good] or
                                [np.zeros(0, np.int32)])
    _, inverse, counts = np.unique(targetid, return_inverse=True, return_counts=True)
    zwarn = np.where(counts[inverse] > 1, int(ZWarn.DUPLICATE_TARGETID), 0).astype(np.int64)
    return {"targetid": targetid, "source_file": source_file, "source_row": source_row, "zwarn_input": zwarn,
            "files": [e["path"] for e in good], "quarantine": [e for e in index if "error" in e]}


def attrs(request: IngestRequest, n: int) -> dict:
    return {"store": {"kind": survey_store.KIND, "schema_version": survey_store.SCHEMA_VERSION},
            "ingest": {"files": len(request.files), "files_sha256": request.files_hash(), "format": request.format,
                       "chunk": min(request.chunk, max(n, 1)), "n": n},
            "code_version": code_version(), "dependencies": dependency_versions(),
            "wavelength_frame": "vacuum", "flux_unit": FLUX_UNIT_TEXT}


def check(request: IngestRequest, overwrite: bool = False) -> str:
    """What a run would do, before any work: "create", "resume" or "complete".

    An existing store is compared on its file list and settings (not on the row
    count, which needs the index)."""
    path = Path(request.out)
    if path.exists() and store.exists(path) and not overwrite:
        found = store.read_attrs(path).get("ingest", {})
        if found.get("files_sha256") != request.files_hash() or found.get("format") != request.format:
            raise ValueError(f"{path} was ingested from other files or with another format; "
                             "choose another --out or pass --overwrite")
        return "resume" if store.incomplete_chunks(path) else "complete"
    return store.plan(path, {}, (), overwrite=overwrite, dry_run=True)


def prepare(request: IngestRequest, index: list[dict], overwrite: bool = False) -> list[int]:
    """Create the template from the index if needed; return the chunks still to write."""
    action = check(request, overwrite)
    if action == "create":
        layout = plan(index)
        n = len(layout["targetid"])
        if n == 0:
            raise NothingReadable(f"no readable spectra in the {len(request.files)} files: "
                                  + "; ".join(q["error"] for q in layout["quarantine"][:5]), layout["quarantine"])
        grid = model_grid()
        store.plan(request.out, {}, (), overwrite=overwrite)  # removes an old store if overwriting
        store.create(request.out, survey_store.variables(), {store.SPECTRUM: n, store.PIXEL: grid.n,
                                                       survey_store.FILE: len(layout["files"])},
                     min(request.chunk, n), {**attrs(request, n), QUARANTINE: layout["quarantine"]},
                     fixed={"wavelength": grid.wavelength, "file_path": np.array(layout["files"]),
                            **{k: layout[k] for k in ("targetid", "source_file", "source_row", "zwarn_input")}})
    else:
        store.remove_partial_files(request.out)
    return store.incomplete_chunks(request.out)


def quarantine(path) -> list[dict]:
    """Files that could not be ingested: [{"path", "error"}]."""
    return store.read_attrs(path).get(QUARANTINE, [])


def finish(path, results=()) -> list[dict]:
    """Add the files that failed while their chunk was written to the quarantine list
    and return the list. ``results``: what ``fill_chunk`` returned (their "quarantine"
    entries). Only the orchestrator calls this, after the chunks: chunk tasks never
    write the store's attributes, which concurrent writers would overwrite.

    A file flagged by an earlier, interrupted run (its rows carry NODATA in
    ``zwarn_input``, which only such files get) whose result was lost is read again
    for its reason."""
    listed = quarantine(path)
    known = {e["path"] for e in listed}
    new = [e for r in results for e in r.get(QUARANTINE, []) if e["path"] not in known]
    known |= {e["path"] for e in new}
    group = store.open_read(path)
    flagged = (group["zwarn_input"][:] & int(ZWarn.NODATA)) != 0
    if flagged.any():
        files, source_file, source_row = group["file_path"][:], group["source_file"][:], group["source_row"][:]
        format, targetid = dict(group.attrs)["ingest"]["format"], group["targetid"][:]
        for f in np.unique(source_file[flagged]):
            if str(files[f]) in known:
                continue
            mine = source_file == f
            *_, error = _regrid_file(str(files[f]), source_row[mine], format, targetid[mine])
            new.append({"path": str(files[f]), "error": error or f"{files[f]}: could not be read when its chunk "
                        "was written (readable now: rerun with --overwrite to ingest it)"})
            known.add(str(files[f]))
    if new:
        store.update_attrs(path, {QUARANTINE: listed + new})
    return listed + new


def fill_chunk(path: str, index: int) -> dict:
    """Read, regrid, pack and write chunk ``index`` of the survey store at ``path``.

    Returns {"chunk", "rows", "checksum", "quarantine"}: the files that failed here, each
    {"path", "error"} (their rows are written flagged BAD_INPUT | NODATA), for ``finish``."""
    group = store.open_read(path)
    n, size = store.layout(path)
    rows = store.chunk_rows(n, size, index)
    planned = {k: group[k][rows] for k in ("targetid", "source_file", "source_row", "zwarn_input")}
    files = group["file_path"][:]
    format = dict(group.attrs)["ingest"]["format"]
    # float32 model-grid spectra in units of a per-spectrum power of two (``unit``), so
    # any flux level fits; pack turns them into the stored arrays
    flux = np.zeros((rows.stop - rows.start, group["wavelength"].shape[0]), np.float32)
    ivar = np.zeros_like(flux)
    unit = np.ones(len(flux))
    bits = planned["zwarn_input"].copy()
    failed = []
    for f in np.unique(planned["source_file"]):
        mine = np.flatnonzero(planned["source_file"] == f)
        f_flux, f_ivar, f_bits, f_unit, error = _regrid_file(str(files[f]), planned["source_row"][mine], format,
                                                             planned["targetid"][mine])
        flux[mine], ivar[mine], unit[mine] = f_flux, f_ivar, f_unit
        bits[mine] |= f_bits
        if error:
            failed.append({"path": str(files[f]), "error": error})
    arrays = {**survey_store.pack(flux, ivar, unit), **planned, "zwarn_input": bits}
    crc = store.write_chunk(path, index, arrays)
    store.mark_complete(path, index, crc)
    return {"chunk": index, "rows": rows.stop - rows.start, "checksum": crc, QUARANTINE: failed}


def _regrid_file(path: str, rows: np.ndarray, format: str, targetid: np.ndarray):
    """Model-grid (flux, ivar, bits, unit, error) of ``rows`` of one file (see
    ``regrid.to_model_grid_scaled``; error None). A file that fails -- any exception:
    unreadable now, other TARGETIDs than indexed, a reader's or the regridding's
    failure -- gives empty rows flagged BAD_INPUT | NODATA and the reason."""
    try:
        raw = read(path, format)
        found = raw.targetid[rows]
        if not np.array_equal(found, targetid):
            raise ReaderError(f"{path}: changed since it was indexed (TARGETIDs {found[:3].tolist()}... "
                              f"where {np.asarray(targetid)[:3].tolist()}... were indexed)")
        arms = [(a.wavelength, a.flux[rows], a.ivar[rows]) for a in raw.arms]
        return (*to_model_grid_scaled(arms), None)
    except Exception as err:
        empty = np.zeros((len(rows), model_grid().n), np.float32)
        return (empty, empty, np.full(len(rows), int(ZWarn.BAD_INPUT | ZWarn.NODATA)), np.ones(len(rows)),
                reason(path, err))
