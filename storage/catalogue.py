"""Catalogue files: one Parquet part per input chunk, merged into Parquet and FITS.

Parts are written to a temporary name and renamed, so a part either exists whole
or not at all, and a rerun skips the parts already there. The merge checks that the
parts hold exactly one row per input spectrum, in input order, before writing
``catalogue.parquet`` and ``catalogue.fits`` (astropy Table with units; provenance
in the header).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import fits_stream

PARTS = "parts"


def part_path(out_dir, chunk: int) -> Path:
    return Path(out_dir) / PARTS / f"part-{chunk:06d}.parquet"


def write_part(out_dir, chunk: int, columns: dict[str, np.ndarray]) -> Path:
    """Write one chunk's rows atomically; returns the part's path."""
    path = part_path(out_dir, chunk)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(pa.table({k: np.asarray(v) for k, v in columns.items()}), tmp)
    os.replace(tmp, path)
    return path


def missing_parts(out_dir, n_chunks: int) -> list[int]:
    return [c for c in range(n_chunks) if not part_path(out_dir, c).exists()]


def remove_stale_parts(out_dir, n_chunks: int, model_id: str) -> list[int]:
    """Delete the parts written by another model than ``model_id`` (a retrained model
    must not leave old rows in the catalogue); returns their chunk indices."""
    stale = []
    for chunk in range(n_chunks):
        path = part_path(out_dir, chunk)
        if path.exists():
            ids = pq.read_table(path, columns=["MODEL_ID"]).column(0)
            if len(ids) and ids[0].as_py() != model_id:
                path.unlink()
                stale.append(chunk)
    return stale


def merge(out_dir, n_chunks: int, targetid: np.ndarray, units: dict[str, str], provenance: dict) -> dict:
    """Merge the parts into catalogue.parquet and catalogue.fits; returns {"rows", "paths"}.

    Streams part by part (memory bounded by one part, whatever the survey size).
    Raises ValueError if a part is missing or the rows differ from ``targetid``
    (the input store's, in order).
    """
    missing = missing_parts(out_dir, n_chunks)
    if missing:
        raise ValueError(f"{out_dir}: catalogue parts missing for chunks {missing[:10]}; rerun score")
    parts = [part_path(out_dir, c) for c in range(n_chunks)]
    _check_rows(out_dir, parts, targetid)
    out = Path(out_dir)
    meta = {b"spectroflow": json.dumps(provenance, default=str).encode(), b"units": json.dumps(units).encode()}
    schema = pq.read_schema(parts[0]).with_metadata(meta)
    with pq.ParquetWriter(out / ".catalogue.parquet.tmp", schema) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part).replace_schema_metadata(meta))
    os.replace(out / ".catalogue.parquet.tmp", out / "catalogue.parquet")
    _write_fits(out, parts, len(targetid), units, provenance)
    return {"rows": len(targetid), "paths": [str(out / "catalogue.parquet"), str(out / "catalogue.fits")]}


def read(out_dir, columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """Columns (name -> (N,) array) of the merged ``catalogue.parquet`` in ``out_dir``."""
    path = Path(out_dir) / "catalogue.parquet"
    if not path.is_file():
        raise ValueError(f"{out_dir} holds no catalogue.parquet (run `spectroflow score` into it)")
    return _numpy(pq.read_table(path, columns=columns))


def provenance(out_dir) -> dict:
    """The provenance dict the merge stored in ``catalogue.parquet``'s metadata."""
    meta = pq.read_schema(Path(out_dir) / "catalogue.parquet").metadata or {}
    return json.loads(meta.get(b"spectroflow", b"{}"))


def _check_rows(out_dir, parts: list[Path], targetid: np.ndarray) -> None:
    offset = 0
    for part in parts:
        ids = pq.read_table(part, columns=["TARGETID"]).column(0).to_numpy()
        if not np.array_equal(ids, targetid[offset:offset + len(ids)]):
            raise ValueError(f"{out_dir}: {part.name} does not hold the store's rows {offset}.. in order")
        offset += len(ids)
    if offset != len(targetid):
        raise ValueError(f"{out_dir}: the parts hold {offset} rows, not the store's {len(targetid)}")


def _write_fits(out: Path, parts: list[Path], n_rows: int, units: dict[str, str], provenance: dict) -> None:
    """catalogue.fits, streamed part by part; FITS cannot carry logarithmic (dex)
    units, so those go into COMMENT cards."""
    schema = pq.read_schema(parts[0])
    strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    widths = {name: 1 for name in strings}
    for part in parts:
        table = pq.read_table(part, columns=strings)
        for name in strings:
            widths[name] = max(widths[name], pc.max(pc.utf8_length(table.column(name))).as_py() or 1)
    fits_units = {k: v for k, v in units.items() if v and not v.startswith("dex")}
    comments = [f"{k} unit: {v}" for k, v in units.items() if v and v.startswith("dex")]
    header, dtype = fits_stream.template(_numpy(pq.read_table(parts[0])), fits_units,
                                         {**_header(provenance), "COMMENT": comments}, widths)
    fits_stream.write(out / ".catalogue.fits.tmp", header, dtype, n_rows,
                      (_numpy(pq.read_table(part)) for part in parts))
    os.replace(out / ".catalogue.fits.tmp", out / "catalogue.fits")


def _numpy(table: pa.Table) -> dict[str, np.ndarray]:
    out = {}
    for name in table.column_names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        out[name] = values.astype(str) if values.dtype == object else values
    return out


def _header(provenance: dict) -> dict:
    """FITS header cards (8-character keys, short values) from the provenance dict."""
    keys = {"model_id": "MODELID", "model_task": "MODELNET", "training_store": "TRAINFP", "input_store": "INSTORE",
            "code_version": "CODEVER", "numpy": "NUMPYVER", "torch": "TORCHVER", "astropy": "ASTROVER"}
    cards = {card: str(provenance[key])[:68] for key, card in keys.items() if key in provenance}
    if "quarantined_files" in provenance:
        cards["NQUARANT"] = len(provenance["quarantined_files"])  # listed in the Parquet metadata
    return cards
