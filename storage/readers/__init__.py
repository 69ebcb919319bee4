"""Survey readers, registered in one place (specutils' per-survey loaders are the model).

``read(path, format="auto")`` opens a FITS file, picks the reader whose ``matches``
accepts it (or the one named), checks what it returns against the ``RawSpectra``
contract (``base.check``) and returns it. Anything unreadable -- whatever the reader
raised -- raises ``ReaderError`` naming the file and the reason.
"""

from __future__ import annotations

from astropy.io import fits

from storage.readers import desi, eso, sdss, table
from storage.readers.base import Arm, RawSpectra, ReaderError, check

#: Format name -> reader module (``matches(hdus)``, ``read(path, hdus)``), in
#: detection order: the most specific first (an ESO SDP file is a one-row table of
#: arrays, which the generic table reader would also claim).
READERS = {"sdss": sdss, "desi": desi, "eso": eso, "table": table}
#: The values ``--format`` accepts.
FORMATS = ("auto", *READERS)

__all__ = ["Arm", "FORMATS", "RawSpectra", "ReaderError", "READERS", "read"]


def read(path, format: str = "auto") -> RawSpectra:
    """The spectra in FITS file ``path`` (format "auto" or a key of ``READERS``)."""
    path = str(path)
    if format not in FORMATS:
        raise ReaderError(f"{path}: unknown format {format!r}; choose {', '.join(FORMATS)}")
    try:
        with fits.open(path, memmap=False) as hdus:
            hdus.verify("silentfix")
            reader = READERS.get(format) or next((r for r in READERS.values() if r.matches(hdus)), None)
            if reader is None:
                raise ReaderError(f"{path}: not an SDSS spec, DESI coadd, ESO SDP spectrum or spectrum-table FITS file")
            if format != "auto" and not reader.matches(hdus):
                raise ReaderError(f"{path}: does not look like a {format} file")
            try:
                return check(reader.read(path, hdus))
            except ReaderError:
                raise
            except Exception as err:  # the reader's own failure, or data that cannot be read
                raise ReaderError(f"{path}: cannot be read as {reader.FORMAT} ({type(err).__name__}: {err})") from err
    except ReaderError:
        raise
    except FileNotFoundError:
        raise ReaderError(f"{path}: no such file") from None
    except Exception as err:  # truncated or corrupt FITS: astropy raises many types
        raise ReaderError(f"{path}: unreadable FITS ({type(err).__name__}: {err})") from err
