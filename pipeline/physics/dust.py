"""Calzetti et al. (2000) starburst attenuation law.

k(lambda) from Calzetti et al. (2000, ApJ 533, 682), eq. 4 with R_V = 4.05:
    k = 2.659 (-2.156 + 1.509/x - 0.198/x^2 + 0.011/x^3) + R_V,  0.12 <= lam < 0.63 µm
    k = 2.659 (-1.857 + 1.040/x) + R_V,                            0.63 <= lam <= 2.20 µm
with x = lambda in µm. The law is defined from 1200 Å to 2.2 µm; outside that we
extend it linearly in 1/lambda from the end points (the common practice, e.g.
Leitherer et al. 2002 in the UV), so that Lyman-alpha and the far-UV keep a
monotonic, finite attenuation.

The attenuated flux is F = F0 * 10^(-0.4 k(lambda) E(B-V)). Nebular lines use the
gas colour excess; the stellar continuum uses E(B-V)_star = 0.44 E(B-V)_gas
(``constants.STELLAR_TO_NEBULAR_EBV``).
"""

from __future__ import annotations

import numpy as np

#: Total-to-selective attenuation of the Calzetti law (Calzetti et al. 2000, eq. 5).
R_V_CALZETTI = 4.05
_UV_EDGE_UM, _BREAK_UM, _IR_EDGE_UM = 0.12, 0.63, 2.20


def _k_blue(x):
    return 2.659 * (-2.156 + 1.509 / x - 0.198 / x**2 + 0.011 / x**3) + R_V_CALZETTI


def _k_red(x):
    return 2.659 * (-1.857 + 1.040 / x) + R_V_CALZETTI


def _linear_in_inverse(x, x0, x1, k):
    """Extend k linearly in 1/x through the points (x0, k(x0)) and (x1, k(x1))."""
    slope = (k(x1) - k(x0)) / (1 / x1 - 1 / x0)
    return k(x0) + slope * (1 / x - 1 / x0)


def calzetti_k(wavelength) -> np.ndarray:
    """Calzetti (2000) k(lambda) for rest-frame wavelength(s) in Å; same shape, float64."""
    x = np.asarray(wavelength, dtype=np.float64) / 1e4
    k = np.where(x < _BREAK_UM, _k_blue(x), _k_red(x))
    k = np.where(x < _UV_EDGE_UM, _linear_in_inverse(x, _UV_EDGE_UM, 0.13, _k_blue), k)
    k = np.where(x > _IR_EDGE_UM, _linear_in_inverse(x, _IR_EDGE_UM, 2.1, _k_red), k)
    # Far in the infrared the linear extension would turn negative: no dust there.
    return np.maximum(k, 0.0)


def attenuation(wavelength, ebv) -> np.ndarray:
    """Transmitted fraction 10^(-0.4 k E(B-V)); broadcasts wavelength (Å) against ebv (mag)."""
    return 10.0 ** (-0.4 * calzetti_k(wavelength) * np.asarray(ebv, dtype=np.float64))


#: Cardelli, Clayton & Mathis (1989, ApJ 345, 245) eq. 3a/3b optical coefficients
#: (1.1 <= x <= 3.3 µm^-1, y = x - 1.82), lowest power first.
_CCM_OPT_A = (1.0, 0.17699, -0.50447, -0.02427, 0.72085, 0.01979, -0.77530, 0.32999)
_CCM_OPT_B = (0.0, 1.41338, 2.28305, 1.07233, -5.38434, -0.62251, 5.30260, -2.09002)


def ccm89_a_over_av(wavelength, r_v: float = 3.1) -> np.ndarray:
    """Milky Way extinction A(lambda)/A(V) at ``wavelength`` (n,) Å, Cardelli, Clayton &
    Mathis (1989) eqs. 2-3 (infrared 0.3-1.1 µm^-1, optical 1.1-3.3 µm^-1); beyond
    3.3 µm^-1 (< 3030 Å) the optical polynomial is held at its 3.3 value, beyond the
    infrared end it follows the same power law. For stars in the Galaxy (R_V = 3.1)."""
    x = 1e4 / np.asarray(wavelength, np.float64)  # µm^-1
    y = np.minimum(x, 3.3) - 1.82
    a_opt = np.polynomial.polynomial.polyval(y, _CCM_OPT_A)
    b_opt = np.polynomial.polynomial.polyval(y, _CCM_OPT_B)
    a_ir, b_ir = 0.574 * x**1.61, -0.527 * x**1.61
    ir = x < 1.1
    return np.where(ir, a_ir + b_ir / r_v, a_opt + b_opt / r_v)
