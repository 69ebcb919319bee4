"""Instruments as data: coverage, resolution and throughput of each spectrograph.

An instrument adds no code, only numbers. Every instrument renders onto the same
common model grid (``grid.model_grid``): it fills the pixels it covers and leaves
ivar = 0 elsewhere.

Sources for the numbers:
* DEIMOS (Keck; Faber et al. 2003) with the 830G grating as in the DEIMOS 10K
  survey (Hasinger et al. 2018): ~3,900 Å per spectrum over 4100-11000 Å, the blue
  edge varying with slit position between 4100 and 7000 Å (thesis §2.2, step 4), R ~ 2700.
* SDSS/BOSS (Smee et al. 2013): 3800-9200 Å (SDSS-I/II legacy range), R ~ 2000.
* DESI (DESI Collaboration 2022): 3600-9824 Å, R ~ 2000-5000 (we use 3500).
Throughput curves are smooth shapes with the published peak regions, normalised
to 1 at their peak; only their shape matters (the S/N is set per spectrum).

Native pixels (``native_step``, ``native_log``: the pixels a survey's pipeline delivers,
which ingest resamples onto the model grid):
* DEIMOS 830G: 0.47 Å/pixel linear (Keck DEIMOS grating table: 830 l/mm, 0.47 Å/px;
  the 1200G would be 0.33 Å/px).
* SDSS/BOSS: 1e-4 in log10(lambda), 69 km/s (Stoughton et al. 2002; Bolton et al. 2012).
* DESI: 0.8 Å linear, the brz coadd grid (Guy et al. 2023, DESI spectroscopic pipeline).

Detector gaps and arm junctions (``gaps``: vacuum Å ranges; ``centre_gap``: the width of a
gap at the middle of each spectrum's coverage; ``gap_probability``: the fraction of
spectra in which they are lost, ivar = 0):
* DEIMOS: the dispersion runs across two CCDs of the mosaic, so every spectrum has a gap
  of ~10-15 Å near its middle (Faber et al. 2003; the chip gap of DEEP2 spectra).
* SDSS: the dichroic at ~5900 Å splits blue and red cameras (Smee et al. 2013); around it
  one camera's edge is often masked.
* DESI: the b/r and r/z arm overlaps at ~5800 Å and ~7600 Å (DESI Collaboration 2022),
  lost when one arm's edge is masked.
Gap widths and probabilities are approximate (the junction regions' typical masking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.physics.constants import C_KMS

#: FWHM = 2 sqrt(2 ln 2) sigma for a Gaussian.
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


@dataclass(frozen=True)
class Instrument:
    """A spectrograph as data.

    lambda_range: (min, max) wavelength the instrument can reach, Å (vacuum).
    blue_edge_range: (lo, hi) of the per-spectrum blue edge, Å; lo == hi for a fixed one.
    span_range: (lo, hi) of the per-spectrum covered width, Å.
    resolution: R = lambda / FWHM of the line-spread function.
    throughput_nodes: (wavelengths Å, relative throughput) interpolated linearly.
    object_noise: object photon noise relative to sky noise at the median flux
        (sky-dominated faint galaxies: small).
    native_step, native_log: native pixel size (Å, or dex when native_log).
    gaps, centre_gap, gap_probability: arm junctions / chip gaps (see the module docstring).
    """

    name: str
    lambda_range: tuple[float, float]
    blue_edge_range: tuple[float, float]
    span_range: tuple[float, float]
    resolution: float
    throughput_nodes: tuple[tuple[float, ...], tuple[float, ...]]
    object_noise: float = 0.2
    native_step: float = 1.0
    native_log: bool = False
    gaps: tuple[tuple[float, float], ...] = ()
    centre_gap: float = 0.0
    gap_probability: float = 0.0

    def native_wavelength(self, lo: float, hi: float) -> np.ndarray:
        """Native pixel centres (Å, vacuum) from ``lo`` to ``hi`` inclusive: linear steps of
        ``native_step`` Å, or log10 steps of ``native_step`` when ``native_log``."""
        if self.native_log:
            step = self.native_step
            return 10.0 ** np.arange(np.log10(lo), np.log10(hi) + step / 2, step)
        return np.arange(lo, hi + self.native_step / 2, self.native_step)

    @property
    def lsf_sigma_kms(self) -> float:
        """Gaussian sigma of the line-spread function, km/s."""
        return C_KMS / self.resolution / FWHM_PER_SIGMA

    def throughput(self, wavelength) -> np.ndarray:
        """Relative throughput at ``wavelength`` (Å); 0 outside ``lambda_range``."""
        lam, value = (np.asarray(v, dtype=float) for v in self.throughput_nodes)
        return np.interp(wavelength, lam, value, left=0.0, right=0.0)

    def draw_coverage(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-spectrum covered range (lambda_lo, lambda_hi), Å, each shape (n,)."""
        lo = rng.uniform(*self.blue_edge_range, size=n)
        hi = np.minimum(lo + rng.uniform(*self.span_range, size=n), self.lambda_range[1])
        return lo, hi


DEIMOS = Instrument(
    name="deimos",
    lambda_range=(4100.0, 11000.0),
    blue_edge_range=(4100.0, 7000.0),
    span_range=(3700.0, 4100.0),
    resolution=2700.0,
    throughput_nodes=((4100, 5000, 6500, 8000, 9500, 10500, 11000), (0.35, 0.7, 1.0, 0.95, 0.6, 0.25, 0.12)),
    native_step=0.47,
    centre_gap=12.0,
    gap_probability=1.0,
)
SDSS = Instrument(
    name="sdss",
    lambda_range=(3800.0, 9200.0),
    blue_edge_range=(3800.0, 3800.0),
    span_range=(5400.0, 5400.0),
    resolution=2000.0,
    throughput_nodes=((3800, 4500, 6000, 7500, 8500, 9200), (0.3, 0.8, 1.0, 0.95, 0.6, 0.3)),
    native_step=1e-4,
    native_log=True,
    gaps=((5870.0, 5930.0),),
    gap_probability=0.1,
)
DESI = Instrument(
    name="desi",
    lambda_range=(3600.0, 9824.0),
    blue_edge_range=(3600.0, 3600.0),
    span_range=(6224.0, 6224.0),
    resolution=3500.0,
    throughput_nodes=((3600, 4200, 5500, 7000, 8500, 9824), (0.35, 0.8, 1.0, 1.0, 0.8, 0.45)),
    native_step=0.8,
    gaps=((5770.0, 5810.0), (7570.0, 7620.0)),
    gap_probability=0.05,
)

INSTRUMENTS = {i.name: i for i in (DEIMOS, SDSS, DESI)}


def get_instrument(name: str) -> Instrument:
    """Instrument by name; ValueError listing the known names otherwise."""
    try:
        return INSTRUMENTS[name]
    except KeyError:
        raise ValueError(f"unknown instrument {name!r}; known: {', '.join(INSTRUMENTS)}") from None
