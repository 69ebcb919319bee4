"""Instrumental artifacts as training augmentation: masks, gaps, sky and telluric residuals,
cosmic rays and flux-calibration errors, drawn per spectrum and applied vectorised.

Every spectrum carries one ``artifact_key`` (an integer below 2**52, so a float64 label
column holds it exactly). All its artifacts follow from that key through a counter-based
hash (SplitMix64, Steele et al. 2014), not from a sequential random stream, so a
spectrum's artifacts are the same whichever batch it is in: the generator records the key
and the label columns below in the store, and the training loader re-applies exactly the
recorded artifacts to every fresh noise draw (``pipeline.physics.observing.observe``).

What is drawn (per spectrum), on the pixels it is observed on (the instrument's native
pixels when rendering with native sampling, else the model grid):

* **flux calibration**: a smooth multiplicative error 1 + sum_k c_k P_k(x), Legendre
  orders 1..3 over the instrument's range (x in [-1, 1]), c_k ~ N(0, FLUXCAL_SIGMA);
  label ``fluxcal_amp`` = its rms over the range, sqrt(sum c_k^2 / (2k + 1)).
* **telluric residuals**: the O2 A and B bands and the ~9300-9600 Å water band, as
  troughs of depth ``telluric_amp`` x the band's typical depth (TELLURIC_BANDS): the part
  of the absorption the pipeline's telluric correction left (negative: over-corrected).
* **sky residuals**: additive eps x (sky - smooth(sky)) in flux units, eps ~ N(0,
  SKYRES_SIGMA) (label ``skyres_amp``): the lines of the night sky under- or
  over-subtracted by a few per cent, the continuum subtracted well.
* **bad pixel runs** (bad columns, hot pixels): Poisson(BAD_RUNS_MEAN) runs of 1 to
  BAD_RUN_MAX_LENGTH pixels at random places in the coverage, ivar = 0.
* **cosmic rays**: Poisson(COSMIC_RAYS_MEAN) hits of 1-2 pixels, each a flux spike of
  COSMIC_RAY_MIN_SIGMA + Exp(COSMIC_RAY_MEAN_SIGMA) times the pixel's noise sigma. Survey
  pipelines find most hits in the 2-D frames (or between exposures) and mask them: the
  extracted pixel keeps its (spiked) flux with ivar = 0 (SDSS ``idlspec2d``, DESI
  ``desispec`` set a mask bit and zero the ivar). A fraction COSMIC_RAY_MISSED escapes
  detection: a spike with its ivar kept. Label ``n_cosmic``: all hits.
* **gaps**: the instrument's chip gaps / arm junctions (``Instrument.gaps``,
  ``centre_gap``), lost (ivar = 0) with the instrument's ``gap_probability``; label
  ``has_gap``: a gap falls inside the spectrum's coverage.

Label ``n_masked``: pixels of the coverage with ivar = 0 from the artifacts (bad runs,
masked cosmic rays, gaps). Masked pixels keep their flux (as survey pipelines deliver
them); only their ivar is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.ndimage import median_filter
from scipy.special import ndtri
from scipy.stats import poisson

from pipeline.physics.instruments import Instrument

#: Per-spectrum label columns recorded in stores (``artifact_key`` first).
LABELS = ("artifact_key", "n_masked", "n_cosmic", "has_gap", "skyres_amp", "telluric_amp", "fluxcal_amp")

#: Sky-subtraction residual: eps ~ N(0, 2 %) of the sky lines (sky subtraction is good
#: to ~1-2 % of the sky on faint-galaxy spectra: Kelson 2003, PASP 115, 688; DESI reaches
#: ~1 %: Guy et al. 2023, AJ 165, 144).
SKYRES_SIGMA = 0.02
#: Sky photon counts per model pixel at the median sky and unit throughput: converts the
#: relative sky into flux units through the noise scale a (sky flux = a sqrt(N) sky). A
#: sky-dominated faint-galaxy exposure (~1 h on a 4-10 m telescope) collects a few hundred;
#: an assumption of this simulator, not a measured value.
SKY_COUNTS = 400.0
#: Median-filter width (model pixels, ~1,700 km/s) that separates sky lines from the sky continuum.
SKY_SMOOTH_PIXELS = 51
#: Telluric bands, vacuum Å, with a typical depth at airmass ~1.2 (band-averaged
#: absorption; ESO SkyCalc / Noll et al. 2012, A&A 543, A92): O2 B, O2 A, H2O.
TELLURIC_BANDS = ((6869.0, 6886.0, 0.3), (7596.0, 7623.0, 0.6), (9300.0, 9600.0, 0.2))
#: Uncorrected fraction of the telluric troughs: uniform in this range.
TELLURIC_AMP_RANGE = (-0.1, 0.3)
#: Flux-calibration Legendre coefficients (orders 1..FLUXCAL_ORDER) ~ N(0, 2 %): spectro-
#: photometric errors of a few per cent (SDSS: Yan et al. 2016; DESI: Guy et al. 2023).
FLUXCAL_SIGMA = 0.02
FLUXCAL_ORDER = 3
#: Cosmic-ray hits inside a spectrum's extraction aperture per spectrum (Poisson mean):
#: ~1-2 events cm^-2 min^-1 on ground-based CCDs (Groom 2004), on a ~0.1 cm^2 aperture,
#: most removed when exposures are combined; an assumption of this simulator.
COSMIC_RAYS_MEAN = 3.0
#: Fraction of hits the pipeline misses (spike kept with its ivar).
COSMIC_RAY_MISSED = 0.1
#: Spike amplitude: MIN + Exp(MEAN) noise sigmas.
COSMIC_RAY_MIN_SIGMA = 5.0
COSMIC_RAY_MEAN_SIGMA = 20.0
#: Bad pixel runs per spectrum (Poisson mean) and their longest length (pixels).
BAD_RUNS_MEAN = 1.0
BAD_RUN_MAX_LENGTH = 8
#: Most hits / runs per spectrum (the Poisson tails beyond are cut).
_MAX_HITS = 10

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: One stream per quantity, so adding one never shifts the others.
_S_SKY, _S_TELL, _S_CAL, _S_CR, _S_BAD, _S_GAP = range(1, 7)


def draw_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    """n artifact keys (float64 integers below 2**52) from a seeded stream."""
    return rng.integers(0, 2**52, size=n).astype(np.float64)


def keyed_uniform(key: np.ndarray, stream: int, n: int) -> np.ndarray:
    """(B, n) uniforms in (0, 1) from SplitMix64 of (key, stream, counter); float64."""
    k = np.asarray(key).astype(np.uint64)[:, None]
    x = k * _GOLDEN + np.uint64((stream * 0xD1B54A32D192ED03) % 2**64)
    x = x + (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)[None, :]
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def _poisson(u: np.ndarray, mean: float) -> np.ndarray:
    """Poisson(mean) counts (capped at _MAX_HITS) by inverting the CDF at uniforms ``u``."""
    cdf = poisson.cdf(np.arange(_MAX_HITS), mean)
    return np.searchsorted(cdf, u).astype(np.int64)


@dataclass(frozen=True)
class Artifacts:
    """Per-spectrum artifact parameters of a batch (B rows), all derived from ``key``.

    skyres_amp, telluric_amp: (B,); fluxcal: (B, FLUXCAL_ORDER) Legendre coefficients;
    gap_on: (B, G) which of the instrument's G gaps (listed gaps, then the centre gap) are
    lost; cr_*: (B, _MAX_HITS) cosmic-ray hits (n, position in [0, 1) of the coverage,
    length 1-2, amplitude in sigma, masked); bad_*: (B, _MAX_HITS) bad runs.
    """

    key: np.ndarray
    skyres_amp: np.ndarray
    telluric_amp: np.ndarray
    fluxcal: np.ndarray
    gap_on: np.ndarray
    cr_n: np.ndarray
    cr_pos: np.ndarray
    cr_len: np.ndarray
    cr_amp: np.ndarray
    cr_masked: np.ndarray
    bad_n: np.ndarray
    bad_pos: np.ndarray
    bad_len: np.ndarray

    def rows(self, which) -> Artifacts:
        """The artifacts of rows ``which`` (a slice or an index array)."""
        return Artifacts(**{f.name: getattr(self, f.name)[which] for f in fields(self)})

    @property
    def fluxcal_amp(self) -> np.ndarray:
        """rms of the flux-calibration error over the instrument's range, (B,)."""
        order = np.arange(1, self.fluxcal.shape[1] + 1)
        return np.sqrt((self.fluxcal**2 / (2 * order + 1)).sum(axis=1))


def draw(key, instrument: Instrument) -> Artifacts:
    """The artifacts of spectra with artifact keys ``key`` (B,) observed with ``instrument``."""
    key = np.asarray(key, dtype=np.float64)
    u = keyed_uniform(key, _S_SKY, 1)
    skyres = SKYRES_SIGMA * ndtri(u[:, 0])
    lo, hi = TELLURIC_AMP_RANGE
    telluric = lo + (hi - lo) * keyed_uniform(key, _S_TELL, 1)[:, 0]
    fluxcal = FLUXCAL_SIGMA * ndtri(keyed_uniform(key, _S_CAL, FLUXCAL_ORDER))
    n_gaps = len(instrument.gaps) + (instrument.centre_gap > 0)
    gap_on = keyed_uniform(key, _S_GAP, max(n_gaps, 1))[:, :n_gaps] < instrument.gap_probability
    u = keyed_uniform(key, _S_CR, 1 + 4 * _MAX_HITS)
    k = _MAX_HITS
    cr_n = _poisson(u[:, 0], COSMIC_RAYS_MEAN)
    cr_amp = COSMIC_RAY_MIN_SIGMA - COSMIC_RAY_MEAN_SIGMA * np.log(u[:, 1 + 2 * k:1 + 3 * k])
    u_bad = keyed_uniform(key, _S_BAD, 1 + 2 * k)
    return Artifacts(
        key=key, skyres_amp=skyres, telluric_amp=telluric, fluxcal=fluxcal, gap_on=gap_on,
        cr_n=cr_n, cr_pos=u[:, 1:1 + k], cr_len=1 + (u[:, 1 + k:1 + 2 * k] < 0.5), cr_amp=cr_amp,
        cr_masked=u[:, 1 + 3 * k:] >= COSMIC_RAY_MISSED,
        bad_n=_poisson(u_bad[:, 0], BAD_RUNS_MEAN), bad_pos=u_bad[:, 1:1 + k],
        bad_len=1 + np.floor(u_bad[:, 1 + k:] * BAD_RUN_MAX_LENGTH).astype(np.int64),
    )


def multiplicative(a: Artifacts, wavelength: np.ndarray, instrument: Instrument) -> np.ndarray:
    """Flux-calibration x telluric-residual factor (B, n) float32 at ``wavelength`` (n,) Å
    (Fortran-ordered: pixel-major in memory, as the native-sampling path's arrays)."""
    lo, hi = instrument.lambda_range
    x = np.clip(2 * (wavelength - lo) / (hi - lo) - 1, -1, 1)
    legendre = np.polynomial.legendre.legvander(x, a.fluxcal.shape[1])[:, 1:].astype(np.float32)  # (n, order)
    factor = legendre @ a.fluxcal.T.astype(np.float32)  # (n, B)
    factor += 1
    trough = np.zeros(len(wavelength), np.float32)
    for band_lo, band_hi, depth in TELLURIC_BANDS:
        trough += depth * ((wavelength >= band_lo) & (wavelength <= band_hi))
    band = np.flatnonzero(trough)
    factor[band] *= 1 - trough[band, None] * a.telluric_amp.astype(np.float32)[None, :]
    np.maximum(factor, np.float32(0.1), out=factor)
    return factor.T


def sky_line_pattern(sky: np.ndarray) -> np.ndarray:
    """sky - smooth(sky) (n,) float64: the sky's lines without its continuum (relative units
    of ``sky``, a spectrum on the model grid); smooth = running median of SKY_SMOOTH_PIXELS.
    Computed once per observing path (``observing.observing_path`` caches it)."""
    sky = np.asarray(sky, dtype=np.float64)
    return sky - median_filter(sky, size=SKY_SMOOTH_PIXELS, mode="nearest")


def _runs(start: np.ndarray, length: np.ndarray, active: np.ndarray, lo, hi, n: int) -> np.ndarray:
    """Boolean (B, n): the runs [start, start + length) (B, K) that are ``active``, clipped
    to each row's lo..hi (B,). Scatters the runs' pixels (runs are short and few)."""
    out = np.zeros((n, start.shape[0]), bool).T  # pixel-major, as the native path's arrays
    b = np.broadcast_to(np.arange(start.shape[0])[:, None], start.shape)[active]
    first = np.clip(start, lo[:, None], hi[:, None] + 1)[active]
    stop = np.clip(start + length, lo[:, None], hi[:, None] + 1)[active]
    if len(b) == 0:
        return out
    step = np.arange(int((stop - first).max(initial=0)))
    pixel = first[:, None] + step[None, :]
    on = pixel < stop[:, None]
    out[np.broadcast_to(b[:, None], pixel.shape)[on], pixel[on]] = True
    return out


@dataclass(frozen=True)
class Placed:
    """Artifacts placed on a batch's pixels: masked (B, n) bool (ivar = 0), gap (B, n) bool
    (the part of ``masked`` from gaps), both pixel-major in memory; hits: cosmic-ray pixels
    (rows, cols, amplitude in units of each pixel's noise sigma), each (H,)."""

    masked: np.ndarray
    gap: np.ndarray
    hits: tuple[np.ndarray, np.ndarray, np.ndarray]

    @property
    def spike(self) -> np.ndarray:
        """Cosmic-ray flux (B, n) float32 in units of each pixel's noise sigma."""
        out = np.zeros(self.masked.shape, np.float32)
        rows, cols, amp = self.hits
        np.add.at(out, (rows, cols), amp)
        return out


def place(a: Artifacts, wavelength: np.ndarray, lo, hi, instrument: Instrument) -> Placed:
    """Pixels hit by the artifacts of ``a`` on a grid of centres ``wavelength`` (n,) Å, for
    spectra covering pixels lo..hi (B,) of that grid."""
    n = len(wavelength)
    lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    span = (hi - lo + 1)[:, None]
    k = np.arange(_MAX_HITS)[None, :]
    bad_start = lo[:, None] + np.floor(a.bad_pos * span).astype(np.int64)
    masked = _runs(bad_start, a.bad_len, k < a.bad_n[:, None], lo, hi, n)
    cr_start = lo[:, None] + np.floor(a.cr_pos * span).astype(np.int64)
    hit = k < a.cr_n[:, None]
    masked |= _runs(cr_start, a.cr_len, hit & a.cr_masked, lo, hi, n)
    hits = []
    for offset in (0, 1):  # a hit covers 1 or 2 pixels
        on = hit & (offset < a.cr_len) & (cr_start + offset <= hi[:, None])
        rows = np.broadcast_to(np.arange(len(lo))[:, None], on.shape)[on]
        hits.append((rows, (cr_start + offset)[on], a.cr_amp[on].astype(np.float32)))
    starts, stops = [], []
    for g_lo, g_hi in instrument.gaps:
        starts.append(np.full(len(lo), np.searchsorted(wavelength, g_lo)))
        stops.append(np.full(len(lo), np.searchsorted(wavelength, g_hi)))
    if instrument.centre_gap > 0:
        centre = 0.5 * (wavelength[lo] + wavelength[hi])
        starts.append(np.searchsorted(wavelength, centre - instrument.centre_gap / 2))
        stops.append(np.searchsorted(wavelength, centre + instrument.centre_gap / 2))
    if starts:
        start = np.stack(starts, axis=1)
        gap = _runs(start, np.stack(stops, axis=1) - start, a.gap_on, lo, hi, n)
    else:
        gap = np.zeros_like(masked)
    return Placed(masked | gap, gap, tuple(np.concatenate(parts) for parts in zip(*hits)))


def labels(a: Artifacts, placed: Placed) -> dict[str, np.ndarray]:
    """The per-spectrum label columns (``LABELS``), float64 (B,)."""
    return {
        "artifact_key": a.key,
        "n_masked": placed.masked.sum(axis=1).astype(np.float64),
        "n_cosmic": a.cr_n.astype(np.float64),
        "has_gap": placed.gap.any(axis=1).astype(np.float64),
        "skyres_amp": a.skyres_amp,
        "telluric_amp": a.telluric_amp,
        "fluxcal_amp": a.fluxcal_amp,
    }
