"""Interstellar absorption lines of star-forming galaxies in the rest-frame UV.

Low- and high-ionisation metal lines of the neutral and ionised ISM (and outflows) are
the strongest absorption features of star-forming galaxies at 1.5 < z < 4 (observed
4,000-11,000 Å). Each is a Gaussian trough of rest equivalent width

    EW_i = ism_ew_scale * f_young * EW_i,ref

multiplying the continuum (stellar + nebular, after dust: the absorbing gas lies in
front of both), centred at the line's vacuum wavelength shifted by the outflow velocity
``v_ism`` (km/s, negative = blueshifted; Shapley et al. 2003 find -150 km/s on average),
with a Gaussian velocity width hypot(ISM_SIGMA_KMS, sigma_v, sigma_LSF).

* EW_i,ref (Å, rest): far-UV lines from the LBG composite of Shapley et al. (2003,
  ApJ 588, 65, Table 3, the full-sample composite); the near-UV Fe II and Mg II lines
  are typical composite values of star-forming galaxies at z ~ 1-2 (Weiner et al. 2009,
  ApJ 692, 187; Kornei et al. 2012, ApJ 758, 135; Erb et al. 2012, ApJ 759, 26 -- these
  vary by a factor ~2 with galaxy properties, which ``ism_ew_scale`` spans). Blends
  resolved in the source are split by oscillator strength where noted.
* f_young: the young population's share of the 1500 Å stellar continuum. Quiescent
  galaxies (no young stars) thus show no interstellar absorption; the gas column that
  absorbs is where the star formation is.
* ISM_SIGMA_KMS = 200 km/s: the intrinsic velocity width of the troughs (composite
  LBG lines have FWHM ~ 450-600 km/s, Shapley et al. 2003 §4.1).

A trough's depth d = EW / (sqrt(2 pi) sigma_lambda) is capped at ``MAX_DEPTH``; below the
cap the rendered rest EW equals the input exactly (troughs multiply, so overlapping
troughs such as the Si IV and C IV doublets are independent absorbers).
"""

from __future__ import annotations

import numpy as np

from pipeline.physics.constants import C_KMS
from pipeline.sampling.grid import LogGrid

#: name -> (vacuum rest wavelength Å, reference rest EW Å). Wavelengths: NIST ASD / Morton
#: (2003, ApJS 149, 205). EWs: see module docstring.
ISM_LINES: dict[str, tuple[float, float]] = {
    "SiII1260": (1260.42, 1.63),
    "OI1302+SiII1304": (1303.27, 2.20),  # blend, as measured by Shapley et al. 2003
    "CII1334": (1334.53, 1.72),
    "SiIV1393": (1393.76, 1.83),
    "SiIV1402": (1402.77, 0.81),
    "SiII1526": (1526.71, 1.72),
    "CIV1548": (1548.20, 2.02),  # Shapley et al. 2003 C IV 1549 blend (3.03 Å), split 2:1
    "CIV1551": (1550.78, 1.01),  # by oscillator strength (f = 0.190, 0.095)
    "FeII2344": (2344.21, 1.6),
    "FeII2374": (2374.46, 1.0),
    "FeII2383": (2382.76, 2.0),
    "FeII2587": (2586.65, 1.5),
    "FeII2600": (2600.17, 2.1),
    "MgII2796": (2796.35, 2.0),
    "MgII2803": (2803.53, 1.8),
}
#: Intrinsic Gaussian velocity width of the troughs, km/s (module docstring).
ISM_SIGMA_KMS = 200.0
#: Typical outflow velocity of the absorbing gas, km/s (Shapley et al. 2003, §4.2).
TYPICAL_OUTFLOW_KMS = -150.0
#: Deepest trough allowed (fraction of the continuum absorbed at line centre).
MAX_DEPTH = 0.95
#: Rest wavelength at which f_young is evaluated, Å.
F_YOUNG_WAVELENGTH = 1500.0
#: Troughs are drawn over +-this many sigmas.
HALF_WIDTH_SIGMA = 5.0

WAVELENGTH = np.array([w for w, _ in ISM_LINES.values()])
REFERENCE_EW = np.array([e for _, e in ISM_LINES.values()])


def rest_equivalent_widths(ism_ew_scale, f_young) -> np.ndarray:
    """Rest EWs (Å) of every ISM_LINES line, (B, n_lines): scale * f_young * reference."""
    scale = np.asarray(ism_ew_scale, dtype=np.float64) * np.asarray(f_young, dtype=np.float64)
    return scale[:, None] * REFERENCE_EW[None, :]


def apply_ism_absorption(out, grid: LogGrid, z, ew_rest, v_ism, sigma_kms) -> None:
    """Multiply ``out`` (B, npix) float32 (observed frame, on ``grid``) by the troughs, in place.

    z: (B,); ew_rest: rest EWs (B, n_lines) Å; v_ism: outflow velocity (B,) km/s;
    sigma_kms: total Gaussian width of the troughs (B,) km/s. Vectorised over the
    (spectrum, line) pairs that have EW > 0 and fall on the grid.
    """
    z = np.asarray(z, dtype=np.float64)
    shift = np.log1p(z) + np.log1p(np.asarray(v_ism, dtype=np.float64) / C_KMS)
    centre = (np.log(WAVELENGTH)[None, :] + shift[:, None] - np.log(grid.lambda0)) / grid.dln
    sigma_kms = np.asarray(sigma_kms, dtype=np.float64)
    sigma = sigma_kms / C_KMS / grid.dln  # pixels (B,)
    # depth = EW / (sqrt(2 pi) sigma_lambda), both rest frame (the (1+z) cancels).
    sigma_rest_aa = sigma_kms[:, None] / C_KMS * WAVELENGTH[None, :]
    depth = np.minimum(np.asarray(ew_rest) / (np.sqrt(2 * np.pi) * sigma_rest_aa), MAX_DEPTH)
    half = int(np.ceil(HALF_WIDTH_SIGMA * sigma.max())) if sigma.size else 0
    inside = (depth > 0) & (centre > -half) & (centre < grid.n + half)
    b, line = np.nonzero(inside)
    if b.size == 0:
        return
    c, s = centre[b, line], sigma[b]
    pix = np.floor(c).astype(np.int64)[:, None] + np.arange(-half, half + 1)
    x = (pix - c[:, None]) / s[:, None]
    factor = 1.0 - depth[b, line][:, None] * np.exp(-0.5 * x * x)
    ok = (pix >= 0) & (pix < grid.n)
    flat = out.reshape(-1)
    np.multiply.at(flat, (b[:, None] * grid.n + pix)[ok], factor[ok].astype(np.float32))
