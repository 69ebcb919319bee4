"""ZWARN: the catalogue's redshift-warning bitmask, defined here and only here.

Bits shared with DESI's redrock (``redrock.zwarning``) keep its numbers and
meanings, so survey tools that test them keep working; spectroflow's own bits
start at 16. ZWARN = 0 means no known problem.
"""

from __future__ import annotations

from enum import IntFlag

import numpy as np


class ZWarn(IntFlag):
    """Warning bits of a catalogue row."""

    #: redrock bit 0: a sky fibre -- here, the class head's SPECTYPE is SKY.
    SKY = 1 << 0
    #: redrock bit 1: too little wavelength coverage on the model grid.
    LITTLE_COVERAGE = 1 << 1
    #: redrock bit 2: the template fit's two best minima differ by Δχ² < 9 (without the
    #: fit, ``--no-refine``: p(z) has a second peak of probability > 0.1).
    SMALL_DELTA_CHI2 = 1 << 2
    #: redrock bit 5 (Z_FITLIMIT): Z at the edge of, or outside, the training range.
    OUT_OF_RANGE = 1 << 5
    #: redrock bit 9: no usable data at all (the row exists so nothing is lost).
    NODATA = 1 << 9
    #: redrock bit 10: the template fit is poor (reduced χ² far from 1) or failed (no
    #: minimum inside its window).
    BAD_MINFIT = 1 << 10
    #: redrock bit 11 (POORDATA): unreadable input, or no valid value at all (NaN/inf flux,
    #: negative ivar everywhere); invalid pixels among valid ones are only masked.
    BAD_INPUT = 1 << 11
    #: median S/N per pixel below the low-S/N threshold.
    LOW_SNR = 1 << 16
    #: the 68 % interval of p(z) is broad.
    BROAD_PZ = 1 << 17
    #: the TARGETID appears more than once in the input.
    DUPLICATE_TARGETID = 1 << 18
    #: the input wavelengths were not increasing (sorted before use).
    UNSORTED_WAVELENGTH = 1 << 19
    #: the network's redshift and the template fit's disagree beyond their errors.
    NET_FIT_DISAGREE = 1 << 20
    #: the class head is unsure: its most probable SPECTYPE has probability < MIN_CLASS_PROB.
    UNCERTAIN_CLASS = 1 << 21


#: Thresholds of the data-driven bits.
MIN_GOOD_PIXELS = 500
LOW_SNR = 2.0
#: Width of the 68 % interval in ln(1+z) above which p(z) counts as broad (~3000 km/s).
BROAD_PZ_WIDTH = 0.01
#: Probability of the secondary peak above which p(z) counts as multi-peaked (no fit).
SECOND_PEAK_PROB = 0.1
#: redrock's threshold: fits whose two best minima differ by less are ambiguous.
MIN_DELTA_CHI2 = 9.0
#: Reduced χ² range of an acceptable fit (outside it: BAD_MINFIT). On simulated spectra
#: with artifacts the median is 1.2 at S/N < 5 and 3.9 at S/N > 15 (template mismatch
#: grows with S/N); above 20 the fit describes the spectrum poorly (~8 % of them).
REDUCED_CHI2_RANGE = (0.3, 20.0)
#: The class head's probability below which SPECTYPE counts as uncertain.
MIN_CLASS_PROB = 0.9
#: Network and fit disagree when their ln(1+z) differ by more than this many combined sigmas.
DISAGREE_SIGMAS = 5.0


def from_pz(z, z_lo, z_hi, p2, z_range, refined: bool = False) -> np.ndarray:
    """Bits that follow from the p(z) summaries (arrays (B,)); z_range: (min, max) trained.
    With ``refined`` the fit decides ambiguity (``from_fit``), not the second peak."""
    bits = np.zeros(np.shape(z), dtype=np.int64)
    bits |= np.where(np.log1p(z_hi) - np.log1p(z_lo) > BROAD_PZ_WIDTH, int(ZWarn.BROAD_PZ), 0)
    if not refined:
        bits |= np.where(p2 > SECOND_PEAK_PROB, int(ZWarn.SMALL_DELTA_CHI2), 0)
    bits |= np.where((z < z_range[0]) | (z > z_range[1]), int(ZWarn.OUT_OF_RANGE), 0)
    return bits


def from_fit(z, zerr, z_net, zerr_net, chi2, npix, n_templates: int, deltachi2, bracketed) -> np.ndarray:
    """Bits that follow from the template fit (arrays (B,)): SMALL_DELTA_CHI2, BAD_MINFIT
    and NET_FIT_DISAGREE. Δχ² is compared in errors inflated until the best fit is
    acceptable (divided by the reduced χ² when that exceeds 1), as ZERR is."""
    with np.errstate(invalid="ignore", divide="ignore"):
        reduced = np.asarray(chi2) / np.maximum(np.asarray(npix) - n_templates, 1)
        scaled = np.asarray(deltachi2) / np.where(np.isfinite(reduced), np.maximum(reduced, 1.0), 1.0)
        bits = np.where(scaled < MIN_DELTA_CHI2, int(ZWarn.SMALL_DELTA_CHI2), 0).astype(np.int64)
        poor = ~((reduced >= REDUCED_CHI2_RANGE[0]) & (reduced <= REDUCED_CHI2_RANGE[1]))
        bits |= np.where(poor | ~np.asarray(bracketed, bool), int(ZWarn.BAD_MINFIT), 0)
        sigma = np.hypot(np.asarray(zerr) / (1 + np.asarray(z)), np.asarray(zerr_net) / (1 + np.asarray(z_net)))
        apart = np.abs(np.log1p(z) - np.log1p(z_net)) > DISAGREE_SIGMAS * sigma
    bits |= np.where(apart, int(ZWarn.NET_FIT_DISAGREE), 0)
    return bits


def from_class(p_class: np.ndarray, spectype: np.ndarray, sky_code: int) -> np.ndarray:
    """Bits that follow from the class head: p_class (B, n_classes), spectype (B,) codes."""
    bits = np.where(np.asarray(spectype) == sky_code, int(ZWarn.SKY), 0).astype(np.int64)
    return bits | np.where(np.max(p_class, axis=1) < MIN_CLASS_PROB, int(ZWarn.UNCERTAIN_CLASS), 0)


def from_star_fit(chi2, npix, deltachi2) -> np.ndarray:
    """SMALL_DELTA_CHI2 and BAD_MINFIT of the stellar fit (``pipeline.fit.stars``), (B,)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        reduced = np.asarray(chi2) / np.maximum(np.asarray(npix) - 2, 1)
        scaled = np.asarray(deltachi2) / np.where(np.isfinite(reduced), np.maximum(reduced, 1.0), 1.0)
        bits = np.where(scaled < MIN_DELTA_CHI2, int(ZWarn.SMALL_DELTA_CHI2), 0).astype(np.int64)
        poor = ~((reduced >= REDUCED_CHI2_RANGE[0]) & (reduced <= REDUCED_CHI2_RANGE[1]))
    return bits | np.where(poor, int(ZWarn.BAD_MINFIT), 0)


def from_data(n_good, median_snr) -> np.ndarray:
    """Bits that follow from the input data: coverage and S/N (arrays (B,))."""
    n_good = np.asarray(n_good)
    bits = np.where(n_good == 0, int(ZWarn.NODATA), 0).astype(np.int64)
    bits |= np.where(n_good < MIN_GOOD_PIXELS, int(ZWarn.LITTLE_COVERAGE), 0)
    bits |= np.where(np.asarray(median_snr) < LOW_SNR, int(ZWarn.LOW_SNR), 0)
    return bits


def describe(zwarn: int) -> list[str]:
    """Names of the bits set in ``zwarn``."""
    return [bit.name for bit in ZWarn if zwarn & bit]


def table() -> str:
    """A markdown table of the bits, for the README."""
    lines = ["| bit | value | name | meaning |", "|---|---|---|---|"]
    for bit in ZWarn:
        doc = _BIT_DOCS.get(bit.name, "")
        lines.append(f"| {int(bit).bit_length() - 1} | {int(bit)} | `{bit.name}` | {doc} |")
    return "\n".join(lines)


_BIT_DOCS = {
    "LITTLE_COVERAGE": f"fewer than {MIN_GOOD_PIXELS} good pixels on the model grid",
    "SMALL_DELTA_CHI2": f"the fit's best other minimum is within Δχ² < {MIN_DELTA_CHI2:g} of the chosen one, "
                        "Δχ² divided by the best fit's reduced χ² when above 1 "
                        f"(`--no-refine`: a secondary p(z) peak with probability > {SECOND_PEAK_PROB})",
    "OUT_OF_RANGE": "Z outside the redshift range the model was trained on",
    "NODATA": "no usable pixel at all",
    "BAD_MINFIT": f"reduced χ² of the fit outside {REDUCED_CHI2_RANGE[0]}-{REDUCED_CHI2_RANGE[1]}, or no minimum "
                  "inside the fit's window",
    "BAD_INPUT": "unreadable input, or none of it valid (all NaN/inf or negative ivar); single invalid pixels are "
                 "masked, without a bit",
    "LOW_SNR": f"median S/N per pixel below {LOW_SNR}",
    "BROAD_PZ": f"68 % interval wider than {BROAD_PZ_WIDTH} in ln(1+z)",
    "DUPLICATE_TARGETID": "TARGETID seen more than once in the input",
    "UNSORTED_WAVELENGTH": "wavelengths were not increasing (sorted before use)",
    "NET_FIT_DISAGREE": f"Z and Z_NET differ by more than {DISAGREE_SIGMAS:g} combined sigmas",
    "SKY": "the class head calls the spectrum an empty (sky) fibre: its Z means nothing",
    "UNCERTAIN_CLASS": f"the most probable SPECTYPE has probability below {MIN_CLASS_PROB}",
}


def zwarn_counts(zwarn: np.ndarray) -> dict[str, int]:
    """Rows per ZWARN bit name, plus "clean" for ZWARN = 0."""
    counts = {"clean": int(np.count_nonzero(zwarn == 0))}
    for value in np.unique(zwarn[zwarn != 0]):
        for name in describe(int(value)):
            counts[name] = counts.get(name, 0) + int(np.count_nonzero(zwarn == value))
    return counts
