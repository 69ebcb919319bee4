"""Flux-conserving resampling of spectra onto the common model grid, with ivar.

Each input pixel is a bin of constant flux density between its edges (midpoints
of the centres). An output pixel's flux density is the overlap-weighted mean of the
good input pixels it covers; its variance propagates the input variances with the
same weights (input pixels independent). Output pixels less than half covered by
good input pixels get ivar = 0. Works on a batch of spectra sharing one input
wavelength array (e.g. a DESI arm, an SDSS plate's log-lambda grid) through one
sparse overlap matrix.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

#: Output pixels need at least this fraction covered by good input pixels.
MIN_COVERED_FRACTION = 0.5


def edges_from_centres(centres: np.ndarray) -> np.ndarray:
    """Pixel edges (N+1,) from increasing centres (N,): midpoints, extrapolated at the ends."""
    c = np.asarray(centres, dtype=np.float64)
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def overlap_matrix(in_edges: np.ndarray, out_edges: np.ndarray) -> sparse.csr_matrix:
    """(M, N) sparse matrix: overlap length of input pixel i with output pixel j,
    divided by output pixel j's width (edges increasing, Å)."""
    first = np.clip(np.searchsorted(in_edges, out_edges[:-1], side="right") - 1, 0, len(in_edges) - 2)
    last = np.clip(np.searchsorted(in_edges, out_edges[1:], side="left") - 1, 0, len(in_edges) - 2)
    counts = np.maximum(last - first + 1, 0)
    rows = np.repeat(np.arange(len(out_edges) - 1), counts)
    cols = first[rows] + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    left = np.maximum(in_edges[cols], out_edges[rows])
    right = np.minimum(in_edges[cols + 1], out_edges[rows + 1])
    width = out_edges[rows + 1] - out_edges[rows]
    weight = np.clip(right - left, 0.0, None) / width
    shape = (len(out_edges) - 1, len(in_edges) - 1)
    return sparse.csr_matrix((weight, (rows, cols)), shape=shape)


def resample(wavelength: np.ndarray, flux: np.ndarray, ivar: np.ndarray, out_edges: np.ndarray):
    """(flux, ivar) on the output pixels, each (B, M) float32.

    wavelength: (N,) increasing centres (Å, same frame as ``out_edges``); flux, ivar:
    (B, N); pixels with ivar <= 0 or non-finite values are bad and ignored.
    """
    w = overlap_matrix(edges_from_centres(wavelength), np.asarray(out_edges, dtype=np.float64))
    flux, ivar = (np.asarray(np.atleast_2d(a), dtype=np.float64) for a in (flux, ivar))  # no copy if float64
    good = (ivar > 0) & np.isfinite(flux) & np.isfinite(ivar)
    f = np.where(good, flux, 0.0)
    var = np.where(good, 1.0 / np.where(good, ivar, 1.0), 0.0)
    covered = (w @ good.T.astype(np.float64)).T  # (B, M) good fraction of each output pixel
    total = (w @ f.T).T
    variance = ((w.multiply(w)) @ var.T).T
    ok = covered >= MIN_COVERED_FRACTION
    safe = np.where(ok, covered, 1.0)
    out_flux = np.where(ok, total / safe, 0.0)
    out_var = np.where(ok, variance / safe**2, np.inf)
    out_ivar = np.where(ok & (out_var > 0), 1.0 / np.where(out_var > 0, out_var, 1.0), 0.0)
    # float32 saturates rather than overflowing to inf (callers scale spectra to O(1) first:
    # pipeline.sampling.regrid; this only guards inconsistent input such as ivar ~ 1e60)
    np.minimum(out_ivar, np.finfo(np.float32).max, out=out_ivar)
    return out_flux.astype(np.float32), out_ivar.astype(np.float32)


class PixelMajorOverlap:
    """``overlap_matrix`` precomputed (float32, and its square) for resampling many batches
    between the same two grids (the simulator's native-sampling path). Products run
    pixel-major: ``w @ x.T`` with x.T C-contiguous is one pass over the matrix (~10x
    faster than on a row-major batch), and x.T is free for a Fortran-ordered x.

    ``resample`` gives the same result (float32 arithmetic here, float64 there).
    """

    def __init__(self, in_edges: np.ndarray, out_edges: np.ndarray):
        w = overlap_matrix(np.asarray(in_edges, np.float64), np.asarray(out_edges, np.float64))
        w.eliminate_zeros()
        self.matrix = w.astype(np.float32)
        self.squared = w.multiply(w).tocsr().astype(np.float32)
        self.shape = w.shape

    def _sum(self, x: np.ndarray, matrix) -> np.ndarray:
        """(matrix @ x.T).T, (B, M) float32 (a Fortran-ordered view)."""
        return (matrix @ np.ascontiguousarray(x.T, dtype=np.float32)).T

    def average(self, x: np.ndarray) -> np.ndarray:
        """Overlap-weighted mean (B, M) float32 of ``x`` (B, N) (every input pixel good);
        Fortran-ordered, as ``resample``'s outputs (feed them on as they are, or copy)."""
        return self._sum(np.asarray(x, np.float32), self.matrix)

    def resample(self, flux: np.ndarray, ivar: np.ndarray):
        """(flux, ivar) (B, M) float32 from (B, N), by ``resample``'s rules: bad pixels
        (ivar <= 0, non-finite) ignored, variances propagated with the squared weights,
        ivar = 0 where less than MIN_COVERED_FRACTION of the output pixel is good."""
        flux, ivar = np.asarray(flux, np.float32), np.asarray(ivar, np.float32)
        good = (ivar > 0) & np.isfinite(flux) & np.isfinite(ivar)
        f = np.where(good, flux, np.float32(0))
        var = np.divide(1, ivar, out=np.zeros_like(ivar), where=good)
        covered = self._sum(good.astype(np.float32), self.matrix)
        total = self._sum(f, self.matrix)
        variance = self._sum(var, self.squared)
        ok = covered >= MIN_COVERED_FRACTION
        safe = np.where(ok, covered, np.float32(1))
        out_flux = np.where(ok, total / safe, np.float32(0))
        variance /= safe * safe
        variance[~(ok & (variance > 0))] = np.inf  # -> ivar 0
        out_ivar = np.reciprocal(variance, out=variance)
        return out_flux, out_ivar
