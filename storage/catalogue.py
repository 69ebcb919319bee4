"""Catalogue files: one Parquet part per input chunk, merged into Parquet and FITS.

Parts are written to a temporary name and renamed, so a part either exists whole
or not at all, and a rerun skips the parts already there. The merge checks that the
parts hold exactly one row per input spectrum, in input order, before writing
``catalogue.parquet`` and ``catalogue.fits`` (astropy Table with units; provenance
in the header).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from storage import fits_stream, location

PARTS = "parts"
#: EXTNAME of the catalogue's table HDU (redrock's): ``Table.read(path, hdu="REDSHIFTS")``.
HDU_NAME = "REDSHIFTS"
#: What the parts were made from (model and input store), next to them.
SOURCE = "source.json"


def part_path(out_dir, chunk: int) -> str:
    return location.join(out_dir, PARTS, f"part-{chunk:06d}.parquet")


def _read_table(path, **kwargs) -> pa.Table:
    if location.is_url(path):
        fs, inner = location.filesystem(path)
        return pq.read_table(inner, filesystem=fs, **kwargs)
    return pq.read_table(path, **kwargs)


def _read_schema(path) -> pa.Schema:
    with location.open_read(path) as f:
        return pq.read_schema(f)


def write_part(out_dir, chunk: int, columns: dict[str, np.ndarray]) -> str:
    """Write one chunk's rows atomically; returns the part's path."""
    path = part_path(out_dir, chunk)
    with location.written(path) as local:
        pq.write_table(pa.table({k: _arrow(v) for k, v in columns.items()}), local)
    return path


def missing_parts(out_dir, n_chunks: int) -> list[int]:
    return [c for c in range(n_chunks) if not location.exists(part_path(out_dir, c))]


def claim_parts(out_dir, source: dict) -> bool:
    """Make the parts in ``out_dir`` belong to ``source`` (the model id and the input
    store's fingerprint): parts made from anything else (a retrained model, a store
    ingested again) are removed, so they are scored again. Returns True if any were."""
    path = location.join(out_dir, PARTS, SOURCE)
    removed = False
    if location.exists(path):
        with location.open_read(path) as f:
            if json.load(f) == source:
                return False
        location.remove(location.join(out_dir, PARTS))
        removed = True
    with location.written(path) as local:
        Path(local).write_text(json.dumps(source))
    return removed


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

    def tables(columns=None):
        return (_read_table(part, columns=columns) for part in parts)

    return {"rows": len(targetid), "paths": _write_catalogue(out_dir, tables, len(targetid), units, provenance)}


def combine(out_dir, sources: list[tuple[str, str]], provenance: dict, label: str = "BATCH") -> dict:
    """One catalogue from the merged catalogues of several runs (e.g. one per night).

    sources: (name, catalogue directory) pairs, in order. The rows are concatenated,
    each with column ``label`` holding its source's name; a TARGETID found in more
    than one row overall gets the DUPLICATE_TARGETID bit in ZWARN (a target observed
    again on a later night). Streams one Parquet row group at a time. Returns
    {"rows", "paths", "duplicates"}.
    """
    from pipeline.assess.zwarning import ZWarn

    if not sources:
        raise ValueError(f"{out_dir}: no catalogues to combine")
    paths = [location.join(d, "catalogue.parquet") for _, d in sources]
    per_source = [_read_table(p, columns=["TARGETID"]).column(0).to_numpy() for p in paths]
    ids = np.concatenate(per_source)
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    repeated = counts[inverse] > 1
    bounds = np.cumsum([0] + [len(i) for i in per_source])
    units = json.loads((_read_schema(paths[0]).metadata or {}).get(b"units", b"{}"))

    def tables(columns=None):
        wanted = None if columns is None else [c for c in columns if c not in (label, "ZWARN")] + ["ZWARN"]
        for (name, _), path, start in zip(sources, paths, bounds):
            with location.open_read(path) as f:
                offset = start
                for batch in pq.ParquetFile(f).iter_batches(columns=wanted):
                    table = _flag_rows(pa.Table.from_batches([batch]), repeated[offset:offset + batch.num_rows],
                                       int(ZWarn.DUPLICATE_TARGETID))
                    offset += batch.num_rows
                    if columns is not None and "ZWARN" not in columns:
                        table = table.drop_columns(["ZWARN"])
                    if columns is None or label in columns:
                        table = table.append_column(label, pa.array(np.full(len(table), name)))
                    yield table

    written = _write_catalogue(out_dir, tables, len(ids), units, provenance)
    return {"rows": len(ids), "paths": written, "duplicates": int(np.count_nonzero(repeated))}


def _flag_rows(table: pa.Table, rows: np.ndarray, bit: int) -> pa.Table:
    """``table`` with ``bit`` set in ZWARN where ``rows`` (bool, one per row) is True."""
    zwarn = table["ZWARN"].to_numpy()
    return table.set_column(table.column_names.index("ZWARN"), "ZWARN", pa.array(np.where(rows, zwarn | bit, zwarn)))


def _write_catalogue(out_dir, tables, n_rows: int, units: dict[str, str], provenance: dict) -> list[str]:
    """catalogue.parquet and catalogue.fits in ``out_dir`` from ``tables(columns=None)``,
    an iterable of Arrow tables (read again per pass, never held whole)."""
    meta = {b"spectroflow": json.dumps(provenance, default=str).encode(), b"units": json.dumps(units).encode()}
    first = next(iter(tables()))
    schema = first.schema.with_metadata(meta)
    paths = [location.join(out_dir, "catalogue.parquet"), location.join(out_dir, "catalogue.fits")]
    with location.written(paths[0]) as local, pq.ParquetWriter(local, schema) as writer:
        for table in tables():
            writer.write_table(table.replace_schema_metadata(meta))
    with location.written(paths[1]) as local:
        _write_fits(local, tables, first, n_rows, units, provenance)
    return paths


def read(out_dir, columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """Columns (name -> (N,) array) of the merged ``catalogue.parquet`` in ``out_dir``."""
    path = location.join(out_dir, "catalogue.parquet")
    if not location.exists(path):
        raise ValueError(f"{out_dir} holds no catalogue.parquet (run `spectroflow score` into it)")
    return _numpy(_read_table(path, columns=columns))


def provenance(out_dir) -> dict:
    """The provenance dict the merge stored in ``catalogue.parquet``'s metadata."""
    meta = _read_schema(location.join(out_dir, "catalogue.parquet")).metadata or {}
    return json.loads(meta.get(b"spectroflow", b"{}"))


def _check_rows(out_dir, parts: list[str], targetid: np.ndarray) -> None:
    offset = 0
    for part in parts:
        ids = _read_table(part, columns=["TARGETID"]).column(0).to_numpy()
        if not np.array_equal(ids, targetid[offset:offset + len(ids)]):
            raise ValueError(f"{out_dir}: {part.rsplit('/', 1)[-1]} does not hold the store's rows {offset}.. in order")
        offset += len(ids)
    if offset != len(targetid):
        raise ValueError(f"{out_dir}: the parts hold {offset} rows, not the store's {len(targetid)}")


def _write_fits(local: str, tables, first: pa.Table, n_rows: int, units: dict[str, str], provenance: dict) -> None:
    """The FITS catalogue at the local path ``local``, streamed table by table (``first``:
    the first, for the layout), in a table HDU named ``REDSHIFTS`` as redrock's; every
    unit is in TUNITn, and the logarithmic (dex) ones, which the FITS standard lacks,
    are spelled out in COMMENT cards too."""
    strings = [f.name for f in first.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    widths = {name: 1 for name in strings}
    for table in (tables(columns=strings) if strings else ()):
        for name in strings:
            widths[name] = max(widths[name], pc.max(pc.utf8_length(table.column(name))).as_py() or 1)
    comments = [f"{k} unit: {v}" for k, v in units.items() if v and v.startswith("dex")]
    header, dtype = fits_stream.template(_numpy(first), units, {**_header(provenance), "COMMENT": comments}, widths,
                                         extname=HDU_NAME)
    fits_stream.write(local, header, dtype, n_rows, (_numpy(table) for table in tables()))


def _arrow(values) -> pa.Array:
    """A column for Arrow: (B, n) arrays become fixed-size lists of n values."""
    values = np.asarray(values)
    if values.ndim == 2:
        return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
    return pa.array(values)


def _numpy(table: pa.Table) -> dict[str, np.ndarray]:
    """Columns as numpy arrays; fixed-size list columns as (N, n) arrays."""
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_fixed_size_list(column.type):
            flat = pa.concat_arrays([c.flatten() for c in column.chunks]) if column.num_chunks else pa.array([])
            out[name] = flat.to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)
            continue
        values = column.to_numpy(zero_copy_only=False)
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
