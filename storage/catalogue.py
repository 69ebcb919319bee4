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
import pyarrow.parquet as pq

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


def merge(out_dir, n_chunks: int, targetid: np.ndarray, units: dict[str, str], provenance: dict) -> dict:
    """Merge the parts into catalogue.parquet and catalogue.fits; returns {"rows", "paths"}.

    Raises ValueError if a part is missing or the rows differ from ``targetid``
    (the input store's, in order).
    """
    from astropy.table import Table

    missing = missing_parts(out_dir, n_chunks)
    if missing:
        raise ValueError(f"{out_dir}: catalogue parts missing for chunks {missing[:10]}; rerun score")
    table = pa.concat_tables([pq.read_table(part_path(out_dir, c)) for c in range(n_chunks)])
    ids = table.column("TARGETID").to_numpy()
    if len(ids) != len(targetid) or not np.array_equal(ids, targetid):
        raise ValueError(f"{out_dir}: the parts hold {len(ids)} rows, not the store's {len(targetid)} in order")
    out = Path(out_dir)
    meta = {b"spectroflow": json.dumps(provenance, default=str).encode(),
            b"units": json.dumps(units).encode()}
    pq.write_table(table.replace_schema_metadata(meta), out / ".catalogue.parquet.tmp")
    os.replace(out / ".catalogue.parquet.tmp", out / "catalogue.parquet")
    fits_table = Table({name: _fits_column(table.column(name)) for name in table.column_names})
    comments = []
    for name, unit in units.items():
        if name in fits_table.colnames and unit:
            # FITS cannot carry logarithmic (dex) units: those go into COMMENT cards
            if unit.startswith("dex"):
                comments.append(f"{name} unit: {unit}")
            else:
                fits_table[name].unit = unit
    for key, value in _header(provenance).items():
        fits_table.meta[key] = value
    fits_table.meta["COMMENT"] = comments
    fits_table.write(out / ".catalogue.fits.tmp", format="fits", overwrite=True)
    os.replace(out / ".catalogue.fits.tmp", out / "catalogue.fits")
    return {"rows": len(ids), "paths": [str(out / "catalogue.parquet"), str(out / "catalogue.fits")]}


def _fits_column(column) -> np.ndarray:
    values = column.to_numpy(zero_copy_only=False)
    return values.astype(str) if values.dtype == object else values


def _header(provenance: dict) -> dict:
    """FITS header cards (8-character keys, short values) from the provenance dict."""
    keys = {"model_id": "MODELID", "model_task": "MODELNET", "training_store": "TRAINFP", "input_store": "INSTORE",
            "code_version": "CODEVER", "numpy": "NUMPYVER", "torch": "TORCHVER", "astropy": "ASTROVER"}
    return {card: str(provenance[key])[:68] for key, card in keys.items() if key in provenance}
