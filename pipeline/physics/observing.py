"""Observing a noiseless model spectrum: pixels, artifacts, noise and the observer's ivar.

``observe`` turns noiseless model-grid flux (B, npix) and its noise model into what a
survey's pipeline would store on the model grid, in this order:

1. **Pixels** (``ObservingPath``): on the model grid itself, or (native sampling) the
   model-grid flux integrated onto the instrument's native pixels
   (``Instrument.native_wavelength``; flux-conserving overlap matrix, precomputed once per
   instrument). The model grid (32.7 km/s) is the finest rendering the simulator has: where
   native pixels are finer (DEIMOS 0.47 Å, DESI 0.8 Å redward of ~7300 Å) the noiseless
   spectrum is piecewise constant on model pixels.
2. **Artifacts** (``pipeline.physics.artifacts``), when given: flux-calibration and
   telluric factors, sky-line residuals, cosmic-ray spikes, masks and gaps.
3. **Noise**: per observed pixel, sigma^2 = a^2 (sky + beta f object) x (model-pixel
   width / pixel width) (the noise model is calibrated per model pixel; variance density
   scales inversely with pixel width), f the true signal; independent per observed pixel.
4. **Honest ivar**: the variance an observer can compute -- the same formula with f
   replaced by the *noisy* flux smoothed by a running mean over IVAR_SMOOTH_PIXELS good
   pixels, clipped at 0 -- never the noiseless model. ivar = 0 on masked pixels.
5. **Ingest** (native sampling only): (flux, ivar) resampled onto the model grid with
   ingest's resampling arithmetic (``pipeline.sampling.resample``: the overlap matrix of
   ``resample``, applied as ``PixelMajorOverlap``), so neighbouring model pixels share
   native pixels and their
   noise is correlated as in an ingested survey spectrum, with ivar propagated as ingest
   propagates it (per pixel, ignoring the correlation).

Random numbers: only the noise draw (from ``seed``); artifacts follow from their keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import uniform_filter1d

from pipeline.physics import artifacts as art
from pipeline.physics.instruments import Instrument
from pipeline.physics.noise import NoiseModel, standard_normal
from pipeline.physics.sky import sky_on_grid
from pipeline.sampling.grid import model_grid
from pipeline.sampling.resample import PixelMajorOverlap, edges_from_centres

#: Running-mean width (pixels) of the observed flux that enters the honest variance.
IVAR_SMOOTH_PIXELS = 15
#: Spectra observed together: a block's temporaries (64 x 14,682 DEIMOS pixels, 3.8 MB
#: each) stay in cache; 256-spectrum blocks ran ~1.4x slower (training loader, 2-core box).
OBSERVE_BLOCK = 64


@dataclass(frozen=True, eq=False)
class ObservingPath:
    """The pixels a spectrum is observed on and the way back to the model grid.

    wavelength: (n,) observed pixel centres, Å; forward: the overlap from the model grid
    onto these pixels (None: the model grid itself); back: ingest's overlap from them
    onto the model grid; width_ratio: (n,) model-pixel width / pixel
    width; sky_lines: (n,) sky - smooth(sky) on these pixels (relative sky units).
    """

    instrument: Instrument
    wavelength: np.ndarray
    forward: PixelMajorOverlap | None
    back: PixelMajorOverlap | None
    width_ratio: np.ndarray
    sky_lines: np.ndarray

    @property
    def native(self) -> bool:
        return self.forward is not None

    def to_pixels(self, x: np.ndarray) -> np.ndarray:
        """Model-grid values (npix,) or (B, npix) averaged onto the observed pixels, float32."""
        if self.forward is None:
            return np.asarray(x, dtype=np.float32)
        x = np.asarray(x, dtype=np.float32)
        return self.forward.average(x) if x.ndim == 2 else self.forward.average(x[None])[0]

    def coverage(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """First and last observed pixel (B,) of model-grid coverage lo..hi (B,): the pixels
        whose centres fall inside the covered model pixels."""
        lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
        if self.forward is None:
            return lo, hi
        edges = model_grid().edges
        first = np.searchsorted(self.wavelength, edges[lo])
        last = np.searchsorted(self.wavelength, edges[hi + 1]) - 1
        return first, np.maximum(last, first)


@lru_cache(maxsize=8)
def observing_path(instrument: Instrument, native: bool) -> ObservingPath:
    """The (cached) observing path of ``instrument``: native pixels or the model grid."""
    grid = model_grid()
    sky_lines = art.sky_line_pattern(sky_on_grid(grid))
    if not native:
        ones = np.ones(grid.n, np.float32)
        return ObservingPath(instrument, grid.wavelength, None, None, ones, sky_lines.astype(np.float32))
    lo, hi = instrument.lambda_range
    wavelength = instrument.native_wavelength(max(lo, grid.edges[0]), min(hi, grid.edges[-1]))
    edges = edges_from_centres(wavelength)
    keep = (edges[:-1] >= grid.edges[0]) & (edges[1:] <= grid.edges[-1])
    wavelength, edges = wavelength[keep], edges_from_centres(wavelength[keep])
    forward = PixelMajorOverlap(grid.edges, edges)
    ratio = (wavelength * np.expm1(grid.dln) / np.diff(edges)).astype(np.float32)
    return ObservingPath(instrument, wavelength, forward, PixelMajorOverlap(edges, grid.edges), ratio,
                         forward.average(sky_lines[None])[0])


def covered_range(covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last covered pixel (B,) of a covered mask (B, npix) (0, -1 for none)."""
    any_ = covered.any(axis=1)
    lo = np.argmax(covered, axis=1)
    hi = covered.shape[1] - 1 - np.argmax(covered[:, ::-1], axis=1)
    return np.where(any_, lo, 0), np.where(any_, hi, -1)


def honest_ivar(flux: np.ndarray, good: np.ndarray, noise: NoiseModel) -> np.ndarray:
    """ivar (B, n) float32 from what an observer has: the noise model's sky and object terms
    and the noisy ``flux`` (B, n) smoothed over IVAR_SMOOTH_PIXELS ``good`` pixels, clipped
    at 0 (sigma^2 = a^2 (sky + beta max(smooth(flux), 0) object)); 0 where not ``good``."""
    total = uniform_filter1d(np.where(good, flux, np.float32(0)), IVAR_SMOOTH_PIXELS, axis=1, mode="constant")
    count = uniform_filter1d(good.astype(np.float32), IVAR_SMOOTH_PIXELS, axis=1, mode="constant")
    smooth = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    np.maximum(smooth, 0, out=smooth)
    ivar = noise.sigma(smooth, good)
    np.square(ivar, out=ivar)
    np.reciprocal(ivar, out=ivar)
    ivar *= good
    return ivar


def observe(model, noise: NoiseModel, covered, seed, artifacts: art.Artifacts | None = None,
            path: ObservingPath | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(flux, ivar), each (B, npix) float32 on the model grid: ``model`` (B, npix) observed
    through ``path`` (None: the model grid, no instrument artifacts) with ``artifacts``
    (None: none), a noise draw from ``seed`` (None: no draw) and the honest ivar; flux and
    ivar are 0 outside ``covered`` (B, npix). Runs in blocks of OBSERVE_BLOCK spectra,
    each with its own noise stream spawned from ``seed``."""
    if path is None and artifacts is not None:
        raise ValueError("artifacts need an observing path (the instrument)")
    n = len(model)
    starts = range(0, n, OBSERVE_BLOCK)
    seeds = [None] * len(starts) if seed is None else _seed_sequence(seed).spawn(len(starts))
    flux, ivar = np.empty(np.shape(model), np.float32), np.empty(np.shape(model), np.float32)
    for start, block_seed in zip(starts, seeds):
        rows = slice(start, start + OBSERVE_BLOCK)
        flux[rows], ivar[rows] = _observe_block(model[rows], noise.rows(rows), covered[rows], block_seed,
                                                None if artifacts is None else artifacts.rows(rows), path)
    return flux, ivar


def _seed_sequence(seed) -> np.random.SeedSequence:
    """``seed`` (an int, a list of ints or a SeedSequence) as a SeedSequence."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _observe_block(model, noise: NoiseModel, covered, seed, artifacts, path):
    if path is None:
        return _observe_pixels(model, noise, covered, seed, None, None, None)
    lo, hi = covered_range(covered)
    lo_o, hi_o = path.coverage(lo, hi)
    n = len(path.wavelength)
    covered_o = covered if not path.native else _mask(lo_o, hi_o, n, lo <= hi)
    signal = path.to_pixels(model)
    if path.native:
        sky, obj = path.to_pixels(noise.sky), path.to_pixels(noise.object)
        noise = NoiseModel(noise.scale, noise.beta, sky * path.width_ratio, obj * path.width_ratio)
    flux, ivar = _observe_pixels(signal, noise, covered_o, seed, artifacts, path, (lo_o, hi_o))
    if not path.native:
        return flux, ivar
    flux, ivar = path.back.resample(flux, ivar)
    flux, ivar = np.ascontiguousarray(flux), np.ascontiguousarray(ivar)
    flux *= covered
    ivar *= covered
    return flux, ivar


def _mask(lo, hi, n, valid) -> np.ndarray:
    j = np.arange(n)[:, None]
    return ((j >= lo) & (j <= hi) & valid).T  # pixel-major, as the native-path arrays


def _observe_pixels(signal, noise: NoiseModel, covered, seed, artifacts, path, bounds):
    """Steps 2-4 of ``observe`` on the observed pixels. Every array follows ``signal``'s
    memory order (pixel-major on the native path): mixed orders make each pass ~10x slower."""
    good = covered
    placed = None
    if artifacts is not None:
        signal = signal * _like(art.multiplicative(artifacts, path.wavelength, path.instrument), signal)
        placed = art.place(artifacts, path.wavelength, *bounds, path.instrument)
    sigma = noise.sigma(signal, covered)
    if seed is None:
        flux = np.array(signal, dtype=np.float32)
    else:
        flux = np.zeros_like(signal, dtype=np.float32)
        _fill(flux, covered, standard_normal(np.random.default_rng(seed), int(np.count_nonzero(covered))))
        flux *= sigma
        flux += signal
    if placed is not None:
        sky_flux = (artifacts.skyres_amp * noise.scale * np.sqrt(art.SKY_COUNTS)).astype(np.float32)
        flux += sky_flux[:, None] * path.sky_lines[None, :]
        rows, cols, amp = placed.hits  # cosmic rays: few pixels
        np.add.at(flux, (rows, cols), amp * sigma[rows, cols])
        flux *= covered
        good = covered & ~_like(placed.masked, flux)
    return flux, honest_ivar(flux, good, noise)


def _pixel_major(x: np.ndarray) -> bool:
    """Whether ``x`` (B, n) is laid out pixel-major (Fortran order) in memory."""
    return x.flags.f_contiguous and not x.flags.c_contiguous


def _like(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``x`` in ``ref``'s memory order (a copy only when they differ)."""
    return np.asfortranarray(x) if _pixel_major(ref) else np.ascontiguousarray(x)


def _fill(out: np.ndarray, where: np.ndarray, values: np.ndarray) -> None:
    """out[where] = values, in ``out``'s memory order (``where`` in the same order)."""
    if _pixel_major(out):
        out.T[where.T] = values
    else:
        out[where] = values
