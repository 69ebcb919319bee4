"""ESO Phase 3 science data products: 1-D spectra (``PRODCATG = 'SCIENCE.SPECTRUM'``,
e.g. the X-shooter, UVES, HARPS or MUSE 1-D products of the ESO archive).

Layout (ESO Science Data Products standard, spectra section): a BINTABLE extension
with ONE row whose cells are arrays of ``NELEM`` values: ``WAVE``, ``FLUX``, ``ERR``
and often ``QUAL`` (0 = good; anything else = bad or dubious: ivar 0), sometimes
``FLUX_REDUCED``/``ERR_REDUCED`` (uncalibrated) or ``WAVE_AIR``. Columns are found by
name, else by their IVOA utype (``TUTYPn``: ``...Data.SpectralAxis.Value``,
``...Data.FluxAxis.Value``, ``...Data.FluxAxis.Accuracy.StatError``); ``FLUX`` is
preferred to ``FLUX_REDUCED``, and the error column must match the flux column.

Units come from ``TUNITn`` (FITS unit strings: ``nm``, ``angstrom``,
``erg cm**(-2) s**(-1) angstrom**(-1)``, ``10**(-17)erg/s/cm2/Angstrom``, ...) and are
converted with astropy to vacuum Å and 1e-17 erg/s/cm2/Å. A flux that is not a flux
density (``adu``, counts, no or an unknown unit: ``FLUXCAL = 'UNCALIBRATED'``
products) is kept as a relative flux, noted in ``meta`` -- redshifts and S/N are
scale-free. ivar = 1 / ERR^2, 0 where QUAL != 0, ERR <= 0 or anything is non-finite.

Air or vacuum: the standard sets ``TUCDn`` of the wavelength column to
``em.wl;obs.atmos`` for air and ``em.wl`` for vacuum wavelengths; a column named
``WAVE_AIR`` is air too. Without a TUCD, a header ``AIRORVAC`` keyword decides, else
air is assumed (ESO's pipelines calibrate in air) and noted in ``meta``. ``SPECSYS``
names the velocity frame (``BARYCENT``, ``TOPOCENT``), not air/vacuum, and is not used.

TARGETID: a ``TARGETID`` (or ``OBJID``) header keyword if there is one (ESO products
have none: ``OBJECT`` is a free-text name and ``OBID1`` an observation block, shared
by all the targets of a block); else a stable hash (CRC-32) of ``ARCFILE``, the
archive's unique product name, or of the file name when there is no ``ARCFILE``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.constants import FLUX_UNIT
from storage.readers.base import (
    Arm,
    RawSpectra,
    ReaderError,
    column,
    floats,
    flux_value,
    header_targetid,
    ivar_from_error,
    name_id,
    quantity,
)

FORMAT = "eso"
WAVE_NAMES = ("WAVE", "WAVE_AIR")
#: Flux column name -> its error column, in order of preference.
FLUX_ERR = {"FLUX": "ERR", "FLUX_REDUCED": "ERR_REDUCED"}
WAVE_UTYPE, FLUX_UTYPE, ERR_UTYPE = "data.spectralaxis.value", "data.fluxaxis.value", "data.fluxaxis.accuracy.staterror"


def matches(hdus: fits.HDUList) -> bool:
    return _spectrum_hdu(hdus) is not None


def read(path: str, hdus: fits.HDUList) -> RawSpectra:
    hdu = _spectrum_hdu(hdus)
    names, header, primary = hdu.columns.names, hdu.header, hdus[0].header
    wave_col = _wave_column(hdu)
    flux_col = column(names, FLUX_ERR) or _by_utype(hdu, FLUX_UTYPE)
    if flux_col is None:
        raise ReaderError(f"{path}: ESO spectrum without a FLUX column")
    err_col = column(names, (FLUX_ERR.get(flux_col.upper(), "ERR"),)) or _by_utype(hdu, ERR_UTYPE)
    if err_col is None:
        raise ReaderError(f"{path}: ESO spectrum without an ERR column for {flux_col}")
    qual_col = column(names, ("QUAL",))
    cells = {c: np.asarray(hdu.data[c][0]).ravel() for c in (wave_col, flux_col, err_col, qual_col) if c}
    sizes = {c: v.size for c, v in cells.items()}
    if len(set(sizes.values())) != 1:
        raise ReaderError(f"{path}: ESO spectrum arrays differ in length: "
                          + ", ".join(f"{c} {n}" for c, n in sizes.items()))

    assumed = []
    wave_aa = quantity(cells[wave_col], _unit(hdu, wave_col), u.AA, assumed, "wavelength").to_value(u.AA)
    if _in_air(hdu, wave_col, primary, assumed):
        wave_aa = air_to_vacuum(wave_aa)
    flux_unit, err_unit = _unit(hdu, flux_col), _unit(hdu, err_col)
    flux = quantity(cells[flux_col], flux_unit, FLUX_UNIT, assumed, "flux")
    err_unit = flux.unit if err_unit is None else err_unit
    if _flux_density(flux.unit):
        if not _flux_density(err_unit) or not err_unit.is_equivalent(flux.unit):
            raise ReaderError(f"{path}: {err_col} in {err_unit} does not match {flux_col} in {flux.unit}")
        err = u.Quantity(np.asarray(cells[err_col], np.float64), err_unit).to(flux.unit)
        flux_v, err_v = flux_value(flux, wave_aa), flux_value(err, wave_aa)
    else:  # adu, counts, a unit astropy does not know: not flux-calibrated
        if err_unit != flux.unit:
            raise ReaderError(f"{path}: {err_col} in {err_unit} does not match {flux_col} in {flux.unit}")
        assumed.append(f"flux in {flux.unit or 'no unit'}, not a flux density: kept as a relative flux")
        flux_v, err_v = flux.value, np.asarray(cells[err_col], np.float64)
    ivar = ivar_from_error(err_v)
    bad = ~np.isfinite(flux_v)
    if qual_col:
        bad |= cells[qual_col] != 0
    ivar[bad] = 0.0
    flux_v = np.where(bad, 0.0, flux_v)
    arm = Arm(np.asarray(wave_aa, np.float64), floats(flux_v)[None, :], floats(ivar)[None, :])
    targetid = header_targetid(header, primary)
    if targetid is None:
        targetid = name_id(str(primary.get("ARCFILE", header.get("ARCFILE", Path(path).name))).strip())
    meta = {"assumed_units": assumed} if assumed else {}
    return RawSpectra(path, FORMAT, np.array([targetid], np.int64), [arm], meta)


def _spectrum_hdu(hdus):
    """The first one-row BINTABLE whose wavelength column holds an array (None if none)."""
    for hdu in hdus[1:]:
        if isinstance(hdu, fits.BinTableHDU) and hdu.header.get("NAXIS2") == 1:
            wave = _wave_column(hdu)
            if wave is not None and _repeat(hdu, wave) > 1:
                return hdu
    return None


def _wave_column(hdu) -> str | None:
    return column(hdu.columns.names, WAVE_NAMES) or _by_utype(hdu, WAVE_UTYPE)


def _repeat(hdu, name: str) -> int:
    """Values per cell of column ``name`` (variable-length arrays: their length in row 0)."""
    fmt = hdu.columns[name].format
    if getattr(fmt, "p_format", None):  # variable-length array (P or Q descriptor)
        return len(hdu.data[name][0])
    return int(fmt.repeat or 1)


def _index(hdu, name: str) -> int:
    """1-based FITS index of column ``name`` (for its TUNITn, TUCDn, TUTYPn)."""
    return hdu.columns.names.index(name) + 1


def _by_utype(hdu, utype: str) -> str | None:
    """The column whose TUTYPn ends with ``utype`` (spec:, Spectrum. or eso: prefix), main
    (spec:/Spectrum.) ones first."""
    found = []
    for k, name in enumerate(hdu.columns.names, start=1):
        value = str(hdu.header.get(f"TUTYP{k}", "")).lower()
        if value.endswith(utype):
            found.append((value.startswith("eso:"), k, name))
    return min(found)[2] if found else None


def _unit(hdu, name: str):
    """The astropy unit of TUNITn (FITS syntax first, then astropy's generic one, then
    lower case: ``ADU``); None if blank, an ``UnrecognizedUnit`` if astropy knows none."""
    text = str(hdu.header.get(f"TUNIT{_index(hdu, name)}", "")).strip()
    if not text:
        return None
    for candidate, fmt in ((text, "fits"), (text, None), (text.lower(), "fits"), (text.lower(), None)):
        try:
            return u.Unit(candidate, format=fmt)
        except ValueError:
            continue
    return u.Unit(text, parse_strict="silent")


def _flux_density(unit) -> bool:
    """True for a flux density per unit wavelength or frequency (what FLUX_UNIT converts from)."""
    return (not isinstance(unit, u.UnrecognizedUnit)
            and unit.is_equivalent(FLUX_UNIT, equivalencies=u.spectral_density(1 * u.AA)))


def _in_air(hdu, wave_col: str, primary, assumed: list) -> bool:
    if wave_col.upper() == "WAVE_AIR":
        return True
    ucd = str(hdu.header.get(f"TUCD{_index(hdu, wave_col)}", "")).strip().lower()
    if ucd.startswith("em.wl"):
        return "obs.atmos" in ucd
    flag = hdu.header.get("AIRORVAC", primary.get("AIRORVAC"))
    if flag is not None:
        return str(flag).strip().lower().startswith("air")
    assumed.append("wavelength in air (no TUCD)")
    return True
