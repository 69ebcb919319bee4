"""Nebular emission lines from the MAPPINGS HII-region grid shipped in NebulaBayes.

The grid (``NebulaBayes/grids/NB_HII_grid.fits.gz``; Thomas et al. 2018, ApJ 856, 89,
MAPPINGS 5) tabulates 95 line fluxes relative to Hbeta = 1 over
log U (-4 ... -2), log P/k (4.2 ... 8.6) and 12 + log(O/H) (7.06 ... 9.30) -- the
thesis's axes (metallicity, ionisation parameter q = U c, pressure). We interpolate
log10(line / Hbeta) trilinearly inside the grid and refuse to extrapolate.

Line wavelengths come from the grid's ``Linelist.csv`` (air above 2000 Å, vacuum
below, the usual convention) and are converted to vacuum once on load.
Lines the grid omits but whose ratios atomic physics fixes are added with PyNeb
(Luridiana et al. 2015): [OIII]4959 and [NII]6548 from their transition
probabilities, and the higher Balmer lines Hepsilon, H8, H9, H10 from case-B
recombination at T = 10^4 K, n_e = 100 cm^-3 (Storey & Hummer 1995 data).
The prepared grid is kept on disk by :mod:`pipeline.physics.cache`, so later processes
skip the table reads and PyNeb (seconds).

A second source, ``load_line_grid("NLR")``, gives LIER-like (low-ionisation emission
region) ratios for quiescent galaxies: the NebulaBayes narrow-line-region grid
(``NB_NLR_grid.fits.gz``, Thomas et al. 2018; MAPPINGS 5 clouds lit by a hard
power-law + disc continuum) at one ionising-spectrum peak, ``NLR_LOG_E_PEAK``, the
softest node that still gives LIER ratios, near the spectrum of the hot evolved
(post-AGB) stars thought to power LIERs (Belfiore et al. 2016, MNRAS 461, 3111). Its
axes are log U -4.2 ... -0.2, log P/k 4.2 ... 8.6 and 12+log(O/H) 7.06 ... 9.30, and it
carries the HII grid's line list (same names, same order, same PyNeb-derived lines), so
either grid feeds the same renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy.table import Table

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.cache import cached_arrays, file_stamp
from pipeline.physics.constants import LOG_C_CMS
from pipeline.physics.resources import package_file

_GRID_FILE = "grids/NB_HII_grid.fits.gz"
#: Grid name -> file inside NebulaBayes (``load_line_grid(name)``).
GRID_FILES = {"HII": _GRID_FILE, "NLR": "grids/NB_NLR_grid.fits.gz"}
#: The NLR grid's 4th axis, log10(E_peak / keV) of the ionising continuum (-2 ... -0.75):
#: the slice used. -1.5 (32 eV, like a ~1e5 K star) gives log [NII]/Halpha > -0.11 for
#: 12+log(O/H) >= 8.76 and log U <= -3.4, above the Kewley et al. (2001) line for 85 %.
NLR_LOG_E_PEAK = -1.5
_LINELIST_FILE = "grids/Linelist.csv"
_AXES = ("log U", "log P/k", "12 + log O/H")
#: Grid columns that are sums of other lines or not line fluxes.
_NOT_LINES = {"OII3726_29", "NI5198_5200", "SII6716_31", "OII7330_31"}
#: The grid leaves a line blank (masked) where MAPPINGS found it negligible
#: (e.g. CIV at low ionisation, [OIII]5007 at 10 cool metal-rich nodes): taken as
#: this fraction of Hbeta, far below anything observable.
BLANK_LINE_FLUX = 1e-6
#: Lines weaker than this fraction of Hbeta everywhere on the grid are not rendered.
MIN_RELATIVE_FLUX = 3e-3
#: Reddest rest wavelength worth rendering (Å): the model grid ends at 11000 Å.
MAX_REST_WAVELENGTH = 11000.0
#: Bump when the line-grid derivation below changes (invalidates the disk cache).
_DERIVATION_VERSION = 1
#: Case-B temperature and density for the PyNeb-derived lines.
_TE, _NE = 1.0e4, 1.0e2
#: Lines added with PyNeb: name -> (air wavelength Å from NIST ASD, parent line, rule).
_DERIVED = {
    "OIII4959": (4958.911, "OIII5007", ("O", 3, 5007, 4959)),
    "NII6548": (6548.050, "NII6583", ("N", 2, 6584, 6548)),
    "Hepsilon": (3970.072, "Hbeta", ("H", 7)),
    "H8": (3889.049, "Hbeta", ("H", 8)),
    "H9": (3835.384, "Hbeta", ("H", 9)),
    "H10": (3797.898, "Hbeta", ("H", 10)),
}


@dataclass(frozen=True)
class LineGrid:
    """Line ratios on the MAPPINGS grid.

    axes: the three grid axes (log U, log P/k, 12+log O/H), each ascending.
    log_ratio: log10(line / Hbeta), shape (nU, nP, nZ, n_lines), float64.
    names: line names, wavelength: vacuum rest wavelengths (Å), shape (n_lines,).
    """

    axes: tuple[np.ndarray, np.ndarray, np.ndarray]
    log_ratio: np.ndarray
    names: tuple[str, ...]
    wavelength: np.ndarray

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Parameter ranges the grid covers, in the simulator's parameter names."""
        u, p, z = self.axes
        return {
            "log_q": (u[0] + LOG_C_CMS, u[-1] + LOG_C_CMS),
            "log_pk": (p[0], p[-1]),
            "metallicity": (z[0], z[-1]),
        }


def _pyneb_ratio(rule, hydrogen, hbeta: float) -> float:
    """Flux ratio of a derived line to its parent from PyNeb atomic data."""
    import pyneb as pn

    if rule[0] == "H":
        return float(hydrogen.getEmissivity(_TE, _NE, lev_i=rule[1], lev_j=2) / hbeta)
    element, ion, parent_wave, wave = rule
    atom = pn.Atom(element, ion)
    return float(atom.getEmissivity(_TE, _NE, wave=wave) / atom.getEmissivity(_TE, _NE, wave=parent_wave))


@lru_cache(maxsize=1)
def derived_line_ratios() -> dict[str, float]:
    """Derived line / parent line flux ratios (PyNeb), e.g. OIII5007/OIII4959 = 1/2.98."""
    import pyneb as pn

    # One H atom and one Hbeta emissivity for all Balmer lines: each RecAtom load and
    # emissivity (a scipy griddata call) takes a few tenths of a second.
    hydrogen = pn.RecAtom("H", 1)
    hbeta = hydrogen.getEmissivity(_TE, _NE, lev_i=4, lev_j=2)
    return {name: _pyneb_ratio(rule, hydrogen, hbeta) for name, (_, _, rule) in _DERIVED.items()}


def _column(table: Table, name: str) -> np.ndarray:
    """A line column as float64 with blank (masked) entries set to BLANK_LINE_FLUX."""
    values = np.ma.filled(np.ma.asarray(table[name], dtype=np.float64), BLANK_LINE_FLUX)
    return np.maximum(values, BLANK_LINE_FLUX)


def _read_line_wavelengths() -> dict[str, float]:
    table = Table.read(package_file("NebulaBayes", _LINELIST_FILE, "nebulabayes"), format="ascii.csv")
    return dict(zip(table["Grid_name"], np.asarray(table["Lambda_AA"], dtype=float)))


def _read_grid_table(name: str) -> Table:
    """The named NebulaBayes grid as a table (the NLR grid cut to ``NLR_LOG_E_PEAK``)."""
    table = Table.read(package_file("NebulaBayes", GRID_FILES[name], "nebulabayes"))
    if name == "NLR":
        table = table[np.isclose(np.asarray(table["log E_peak"], dtype=float), NLR_LOG_E_PEAK, atol=1e-3)]
    return table


def _build_line_grid(name: str = "HII") -> dict[str, np.ndarray]:
    """The arrays of a LineGrid (see there), read from the grid files and PyNeb."""
    table = _read_grid_table(name)
    # The FITS columns are float32: round so that e.g. 4.2 is not 4.19999981.
    axes = tuple(np.unique(np.round(np.asarray(table[a], dtype=float), 4)) for a in _AXES)
    order = np.lexsort([np.asarray(table[a]) for a in reversed(_AXES)])
    shape = tuple(len(a) for a in axes)
    if len(table) != np.prod(shape):
        raise ValueError(f"the {name} line grid is not a full {shape} grid ({len(table)} rows)")
    air = _read_line_wavelengths()
    if name == "HII":
        names = [
            c for c in table.colnames
            if c in air and c not in _NOT_LINES and air[c] < MAX_REST_WAVELENGTH
            and np.ma.max(table[c]) > MIN_RELATIVE_FLUX
        ]
    else:  # the HII grid's line list, so that both grids share one renderer
        names = [c for c in load_line_grid("HII").names if c not in _DERIVED]
    flux = {c: _column(table, c)[order].reshape(shape) for c in names}
    for name, (_, parent, _) in _DERIVED.items():
        flux[name] = flux[parent] * derived_line_ratios()[name]
    all_names = tuple(names) + tuple(_DERIVED)
    wav_air = [air[n] for n in names] + [_DERIVED[n][0] for n in _DERIVED]
    return {
        "axis_u": axes[0], "axis_p": axes[1], "axis_z": axes[2],
        "log_ratio": np.log10(np.stack([flux[n] for n in all_names], axis=-1)),
        "names": np.array(all_names), "wavelength": air_to_vacuum(np.array(wav_air)),
    }


def _cache_deps(name: str = "HII") -> tuple:
    """Everything the line grid depends on: data files, PyNeb (atomic data), constants."""
    from importlib.metadata import version

    files = (package_file("NebulaBayes", f, "nebulabayes") for f in (GRID_FILES[name], _LINELIST_FILE))
    deps = (
        _DERIVATION_VERSION, *(file_stamp(f) for f in files), version("pyneb"),
        _AXES, sorted(_NOT_LINES), BLANK_LINE_FLUX, MIN_RELATIVE_FLUX, MAX_REST_WAVELENGTH,
        _TE, _NE, _DERIVED,
    )
    if name == "NLR":  # its line list is the HII grid's
        deps += (NLR_LOG_E_PEAK, *_cache_deps("HII"))
    return deps


@lru_cache(maxsize=2)
def load_line_grid(name: str = "HII") -> LineGrid:
    """Read and prepare a line grid once per process (cached on disk; arrays read-only).

    name: "HII" (star-forming HII regions, the default) or "NLR" (LIER-like ratios, see
    the module docstring); both carry the same line names in the same order.
    """
    if name not in GRID_FILES:
        raise ValueError(f"unknown line grid {name!r}; choose one of {', '.join(GRID_FILES)}")
    fields = ("axis_u", "axis_p", "axis_z", "log_ratio", "names", "wavelength")
    cache_name = "line_grid" if name == "HII" else f"line_grid_{name.lower()}"
    a = cached_arrays(cache_name, fields, _cache_deps(name), lambda: _build_line_grid(name))
    names = tuple(str(n) for n in a["names"])
    return LineGrid((a["axis_u"], a["axis_p"], a["axis_z"]), a["log_ratio"], names, a["wavelength"])


def _axis_weights(axis: np.ndarray, x: np.ndarray):
    """Lower node index and linear weight of x on an ascending axis (x inside it)."""
    i = np.clip(np.searchsorted(axis, x, side="right") - 1, 0, len(axis) - 2)
    w = (x - axis[i]) / (axis[i + 1] - axis[i])
    return i, w


def line_ratios(grid: LineGrid, log_q, log_pk, metallicity) -> np.ndarray:
    """Line fluxes relative to Hbeta, shape (B, n_lines), trilinear in log10 ratio.

    log_q: log10 of q = U c in cm/s; log_pk: log10(P/k / cm^-3 K); metallicity:
    12 + log(O/H). Arrays of shape (B,), already validated to lie inside the grid.
    """
    coords = (np.asarray(log_q) - LOG_C_CMS, np.asarray(log_pk), np.asarray(metallicity))
    (iu, wu), (ip, wp), (iz, wz) = (_axis_weights(a, x) for a, x in zip(grid.axes, coords))
    out = 0.0
    for du, fu in ((0, 1 - wu), (1, wu)):
        for dp, fp in ((0, 1 - wp), (1, wp)):
            for dz, fz in ((0, 1 - wz), (1, wz)):
                corner = grid.log_ratio[iu + du, ip + dp, iz + dz]
                out = out + (fu * fp * fz)[:, None] * corner
    return 10.0**out
