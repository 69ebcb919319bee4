"""Survey readers, registered in one place (specutils' per-survey loaders are the model).

``read(path, format="auto")`` opens a FITS file, picks the reader whose ``matches``
accepts it (or the one named), and returns ``RawSpectra``. Anything unreadable
raises ``ReaderError`` naming the file and the reason.
"""

from __future__ import annotations

from astropy.io import fits

from storage.readers import desi, sdss, table
from storage.readers.base import Arm, RawSpectra, ReaderError

#: Format name -> reader module (``matches(hdus)``, ``read(path, hdus)``), in
#: detection order: the most specific first.
READERS = {"sdss": sdss, "desi": desi, "table": table}

__all__ = ["Arm", "RawSpectra", "ReaderError", "READERS", "read"]


def read(path, format: str = "auto") -> RawSpectra:
    """The spectra in FITS file ``path`` (format "auto", "sdss", "desi" or "table")."""
    path = str(path)
    if format != "auto" and format not in READERS:
        raise ReaderError(f"{path}: unknown format {format!r}; choose auto, {', '.join(READERS)}")
    try:
        with fits.open(path, memmap=False) as hdus:
            hdus.verify("silentfix")
            reader = READERS.get(format) or next((r for r in READERS.values() if r.matches(hdus)), None)
            if reader is None:
                raise ReaderError(f"{path}: not an SDSS spec, DESI coadd or spectrum-table FITS file")
            if format != "auto" and not reader.matches(hdus):
                raise ReaderError(f"{path}: does not look like a {format} file")
            return reader.read(path, hdus)
    except ReaderError:
        raise
    except FileNotFoundError:
        raise ReaderError(f"{path}: no such file") from None
    except Exception as err:  # truncated or corrupt FITS: astropy raises many types
        raise ReaderError(f"{path}: unreadable FITS ({type(err).__name__}: {err})") from err
