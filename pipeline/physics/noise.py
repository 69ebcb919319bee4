"""Noise models: per-pixel sigma for a target S/N, and the thesis's 20 % mode.

``physical``: sky-dominated noise. In flux units a pixel's variance is
    sigma^2 = a^2 [ sky(lambda) / T(lambda) + beta f(lambda) / (T(lambda) f_med) ],
sky photons (sky flux x throughput T counts, sigma = sqrt(counts) / T) plus the
object's own photons (beta = object-to-sky variance at the median flux). The scale
a is set per spectrum so that the median over the covered pixels of flux x
sqrt(ivar) equals the target S/N: SDSS's ``SN_MEDIAN`` (the median S/N per pixel
of the spBoss/spAll files), which a survey computes on real spectra the same way.
The median runs over the covered pixels redward of Lyman-alpha: blueward, the IGM
and the Lyman limit leave little or no flux at high z, whatever the exposure.

``thesis``: sigma = 20 % of the standard deviation of the spectrum's covered flux,
the same for every pixel (thesis §2.2, step 5), kept to compare like for like.

Medians over ~5,000-9,000 covered pixels are taken on 512 evenly spaced covered
pixels: exact enough (< 2 %) and ~20x cheaper on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE_MODES = ("physical", "thesis", "none")
#: Thesis noise: sigma = THESIS_NOISE_FRACTION x std(flux) (thesis §2.2, step 5).
THESIS_NOISE_FRACTION = 0.20
_MEDIAN_SAMPLES = 512


def sample_covered(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Indices (B, 512) of evenly spaced pixels from lo[b] to hi[b] inclusive."""
    steps = np.linspace(0.0, 1.0, _MEDIAN_SAMPLES)
    return lo[:, None] + np.round(steps[None, :] * (hi - lo)[:, None]).astype(np.int64)


def _positive(signal: np.ndarray) -> np.ndarray:
    """Replace non-positive signal levels by 1: a spectrum with no flux at all in its
    coverage (possible only in a hand-made table) gets noise of 1 flux unit / S/N."""
    return np.where(signal > 0, signal, 1.0)


@dataclass(frozen=True)
class NoiseModel:
    """Per-pixel noise of a batch, enough to redraw it at any time.

    On covered pixels sigma^2 = scale^2 (sky + beta * model * object); elsewhere
    sigma = 1 and ivar = 0. scale, beta: (B,) float32 (flux units, and
    1 / flux units); sky, object: (npix,) float32 (the instrument's sky / T and 1 / T;
    the thesis mode uses sky = 1, object = 0, beta = 0: a constant sigma = scale).
    """

    scale: np.ndarray
    beta: np.ndarray
    sky: np.ndarray
    object: np.ndarray

    def rows(self, which) -> NoiseModel:
        """The noise of rows ``which`` (a slice or an index array)."""
        def pick(x):
            return x[which] if np.ndim(x) == 2 else x
        return NoiseModel(self.scale[which], self.beta[which], pick(self.sky), pick(self.object))

    def sigma(self, model: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """Per-pixel sigma (B, npix) float32 for noiseless ``model`` flux (B, npix)."""
        out = model * self.beta.astype(np.float32)[:, None]
        out *= self.object
        out += self.sky
        np.sqrt(out, out=out)
        out *= self.scale.astype(np.float32)[:, None]
        np.copyto(out, np.float32(1), where=~covered)
        return out


def physical_noise(flux, sky_over_t, inv_t, lo, hi, snr, object_noise) -> NoiseModel:
    """Sky + object noise scaled so that each spectrum's SN_MEDIAN equals ``snr``.

    flux: noiseless model flux (B, npix), >= 0 by construction; sky_over_t, inv_t:
    sky/T and 1/T on the grid, (npix,) (finite everywhere); lo, hi: first and last
    pixel (B,) of the range the median runs over; snr: target (B,).
    """
    idx = sample_covered(lo, hi)
    f_sample = np.take_along_axis(flux, idx, axis=1)
    beta = (object_noise / _positive(np.median(f_sample, axis=1))).astype(np.float32)
    shape = np.sqrt(sky_over_t[idx] + beta[:, None] * f_sample * inv_t[idx])
    scale = _positive(np.median(f_sample / shape, axis=1)) / snr
    return NoiseModel(scale.astype(np.float32), beta, sky_over_t, inv_t)


def thesis_noise(flux, covered) -> NoiseModel:
    """Sigma = 20 % of each spectrum's covered-flux standard deviation (thesis §2.2)."""
    n = covered.sum(axis=1)
    mean = np.where(covered, flux, 0.0).sum(axis=1) / n
    var = np.where(covered, (flux - mean[:, None]) ** 2, 0.0).sum(axis=1) / n
    npix = flux.shape[1]
    scale = (THESIS_NOISE_FRACTION * np.sqrt(var)).astype(np.float32)
    return NoiseModel(scale, np.zeros_like(scale), np.ones(npix, np.float32), np.zeros(npix, np.float32))


def standard_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """n unit Gaussian deviates, float32, by the Box-Muller transform of float32 uniforms.

    ~1.5x faster than ``rng.standard_normal(dtype=float32)`` on the generation hot path.
    24-bit uniforms bound |x| < 5.8 sigma: tails beyond occur with probability < 1e-8.
    """
    half = (n + 1) // 2
    u = rng.random(2 * half, dtype=np.float32)
    radius = np.log1p(-u[:half])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = u[half:] * np.float32(2.0 * np.pi)
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    out[:half] *= radius
    out[half:] *= radius
    return out[:n]
