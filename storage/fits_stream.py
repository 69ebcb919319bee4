"""Write a FITS binary table batch by batch, in memory bounded by one batch.

astropy writes a table from a whole Table in memory; a survey catalogue of tens of
millions of rows should not need that. The layout is simple enough to stream
(FITS Standard 4.0, sections 3.3 and 7.3): a primary HDU, then the BINTABLE header
whose NAXIS2 is the total row count, then the rows as big-endian records, zero-padded
to a multiple of 2,880 bytes. astropy builds the header (column formats, units)
from a one-row template, so the file reads back like one astropy wrote whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
from astropy.io import fits
from astropy.table import Table

BLOCK = 2880  # bytes per FITS block


def template(columns: dict[str, np.ndarray], units: dict[str, str], meta: dict, string_widths: dict[str, int],
             extname: str | None = None):
    """(header, record dtype) of a BINTABLE from one batch's columns (name -> (B,) or
    (B, n) array; the latter become vector columns).

    units: column -> unit string, written to TUNITn. Units the FITS standard lacks
    (logarithmic ``dex(...)``) are written as astropy spells them: astropy reads them back
    as the same string (with a UnitsWarning). string_widths: characters per string column
    (the largest over all batches); extname: the table HDU's EXTNAME.
    """
    first = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype == bool:
            raise TypeError(f"column {name}: logical columns are not streamed; store them as integers")
        if values.dtype.kind in "USO":
            values = values[:1].astype(f"S{max(string_widths.get(name, 1), 1)}")
        first[name] = values[:1]
    table = Table(first)
    raw = {}
    for name, unit in units.items():
        if name in table.colnames and unit:
            if unit.startswith("dex"):
                raw[name] = unit
            else:
                table[name].unit = unit
    hdu = fits.table_to_hdu(table)
    for name, unit in raw.items():
        hdu.header[f"TUNIT{table.colnames.index(name) + 1}"] = unit
    if extname:
        hdu.header["EXTNAME"] = extname
    for key, value in meta.items():
        if key == "COMMENT":
            for line in value:
                hdu.header.add_comment(line)
        else:
            hdu.header[key] = value
    # FITS stores numbers big-endian; astropy's in-memory dtype may be native
    fields = [(name, dt.newbyteorder(">") if dt.kind in "iuf" else dt)
              for name, (dt, _) in hdu.data.dtype.fields.items()]
    return hdu.header, np.dtype(fields)


def write(path, header: fits.Header, dtype: np.dtype, n_rows: int, batches: Iterable[dict[str, np.ndarray]]) -> None:
    """Write the primary HDU and the table of ``n_rows`` rows from ``batches``.

    Raises ValueError if the batches hold another number of rows (the file is then
    incomplete: write to a temporary name and rename on success).
    """
    header = header.copy()
    header["NAXIS2"] = n_rows
    written = 0
    with open(Path(path), "wb") as f:
        f.write(fits.PrimaryHDU().header.tostring().encode("ascii"))
        f.write(header.tostring().encode("ascii"))
        for batch in batches:
            records = np.empty(len(next(iter(batch.values()))), dtype=dtype)
            for name in dtype.names:
                records[name] = batch[name]
            f.write(records.tobytes())
            written += len(records)
        f.write(b"\0" * (-(written * dtype.itemsize) % BLOCK))
    if written != n_rows:
        raise ValueError(f"{path}: wrote {written} rows, expected {n_rows}")
