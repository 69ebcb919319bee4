"""Bad input through ingest and score: each case a flagged row or a quarantine entry,
never a crash of the run and never a lost row."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from survey_files import FLUX, IVAR, WAVE, desi_file, sdss_file

from flows.jobs.ingest import IngestRequest, fill_chunk, index_files, prepare, quarantine
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.assess.zwarning import ZWarn
from storage import store

N = WAVE.size
#: Spectrum cases: name -> (file keyword arguments, ZWARN bits the row must carry).
ROWS = {
    "good": ({}, 0),
    # non-finite pixels are masked and the spectrum is used on the rest, without a bit;
    # a spectrum with nothing finite left is BAD_INPUT (and NODATA)
    "nan_flux": ({"flux": np.where(np.arange(N) % 7 == 0, np.nan, FLUX)}, 0),
    "inf_flux": ({"flux": np.where(np.arange(N) < 30, np.inf, FLUX)}, 0),
    "all_nan": ({"flux": np.full(N, np.nan)}, ZWarn.BAD_INPUT | ZWarn.NODATA),
    "zero_ivar": ({"ivar": np.zeros(N)}, ZWarn.NODATA | ZWarn.LITTLE_COVERAGE),
    "negative_ivar": ({"ivar": -IVAR}, ZWarn.BAD_INPUT | ZWarn.NODATA),
    "few_pixels": ({"ivar": np.where(np.arange(N) < 3, IVAR, 0.0)}, ZWarn.LITTLE_COVERAGE),
    "off_grid": ({"wave": np.geomspace(12000.0, 20000.0, N)}, ZWarn.NODATA),
    "unsorted": ({"wave": WAVE[::-1], "flux": FLUX[::-1], "ivar": IVAR[::-1]}, ZWarn.UNSORTED_WAVELENGTH),
}
#: File cases that cannot be read at all: name -> (writer, words the quarantine reason holds).
FILES = {
    "truncated": (lambda p: p.write_bytes(sdss_file(p.with_suffix(".whole"), 99).read_bytes()[:5000]), "truncated"),
    "wrong_format": (lambda p: fits.PrimaryHDU(np.zeros((4, 4))).writeto(p), "not an SDSS spec"),
}


@pytest.fixture(scope="module")
def catalogue(tiny_model, tmp_path_factory):
    """Ingest and score every case together (as a survey run would meet them)."""
    d = tmp_path_factory.mktemp("bad")
    files = [sdss_file(d / f"{name}.fits", 100 + k, **kw) for k, (name, (kw, _)) in enumerate(ROWS.items())]
    for name, (write, _) in FILES.items():
        write(d / f"{name}.fits")
        files.append(d / f"{name}.fits")
    files.append(desi_file(d / "duplicates.fits", (500, 501, 500)))
    request = IngestRequest(tuple(map(str, files)), str(d / "survey.zarr"), chunk=4)
    for index in prepare(request, index_files(request.files)):
        fill_chunk(request.out, index)
    out = d / "catalogue"
    n_chunks = store.n_chunks(*store.layout(request.out))
    for index in range(n_chunks):
        score_chunk(request.out, tiny_model, str(out), index)
    merge(ScoreRequest(request.out, tiny_model, str(out)))
    assert fits.getheader(out / "catalogue.fits", 1)["NQUARANT"] == len(FILES)
    return pq.read_table(out / "catalogue.parquet").to_pandas(), quarantine(request.out), request.out


def test_every_readable_spectrum_has_exactly_one_row_in_input_order(catalogue):
    cat, *_ = catalogue
    assert cat["TARGETID"].tolist() == [100 + k for k in range(len(ROWS))] + [500, 501, 500]
    assert np.isfinite(cat["Z"]).all() and np.isfinite(cat["ZERR"]).all()


@pytest.mark.parametrize("name", ROWS)
def test_bad_spectrum_gets_a_flagged_row(catalogue, name):
    cat, *_ = catalogue
    row = cat.iloc[list(ROWS).index(name)]
    expected = int(ROWS[name][1])
    if expected:
        assert row["ZWARN"] & expected == expected, ZWarn(int(row["ZWARN"]))
    else:
        assert row["ZWARN"] & (ZWarn.BAD_INPUT | ZWarn.NODATA | ZWarn.LITTLE_COVERAGE) == 0
        assert row["NPIX_GOOD"] > 5000
        if name != "good":  # the masked pixels are not counted as data
            assert row["NPIX_GOOD"] < cat.iloc[list(ROWS).index("good")]["NPIX_GOOD"]


def test_unsorted_wavelengths_score_like_sorted_ones(catalogue):
    """The reversed spectrum reaches the network as the same input as the sorted one.
    (Its Z is not compared, nor the bits that follow from Z and the fit: the one-epoch
    test model's p(z) is nearly flat, so which peak wins can turn on rounding that
    differs with the rows batched alongside.)"""
    cat, _, survey_store = catalogue
    rows = [list(ROWS).index("good"), list(ROWS).index("unsorted")]
    data = store.open_dataset(survey_store)
    scale = data["flux_scale"].values[rows].astype(np.float64)[:, None]
    flux = data["flux"].values[rows].astype(np.float64) * scale
    ivar = data["ivar"].values[rows].astype(np.float64) / scale**2
    # both files mask native pixel 10 (survey_files.sdss_file), a different wavelength in
    # each: compare away from both masks and the model pixels that straddle their edges
    both = (ivar[0] > 0) & (ivar[1] > 0)
    both &= np.roll(both, 1) & np.roll(both, -1)
    assert np.count_nonzero(both) > 0.99 * np.count_nonzero(ivar[0] > 0)
    np.testing.assert_allclose(flux[1][both], flux[0][both], rtol=2e-3)  # float16 storage
    np.testing.assert_allclose(ivar[1][both], ivar[0][both], rtol=2e-3)
    good, unsorted = cat.iloc[rows[0]], cat.iloc[rows[1]]
    assert unsorted["NPIX_GOOD"] == good["NPIX_GOOD"]
    assert unsorted["SN_MEDIAN"] == pytest.approx(good["SN_MEDIAN"], rel=2e-3)
    from_z = ZWarn.SMALL_DELTA_CHI2 | ZWarn.BAD_MINFIT | ZWarn.NET_FIT_DISAGREE | ZWarn.BROAD_PZ | ZWarn.OUT_OF_RANGE
    assert (unsorted["ZWARN"] ^ good["ZWARN"]) & ~from_z == ZWarn.UNSORTED_WAVELENGTH


@pytest.mark.parametrize("name", FILES)
def test_unreadable_file_is_quarantined_with_its_reason(catalogue, name):
    _, entries, _ = catalogue
    entry = next(e for e in entries if e["path"].endswith(f"{name}.fits"))
    assert FILES[name][1] in entry["error"] and f"{name}.fits" in entry["error"]
    assert len(entries) == len(FILES)


def test_duplicate_targetids_are_all_kept_and_flagged(catalogue):
    cat, *_ = catalogue
    dup = cat[cat["TARGETID"] == 500]
    assert len(dup) == 2 and (dup["ZWARN"] & int(ZWarn.DUPLICATE_TARGETID)).all()
    assert not cat[cat["TARGETID"] == 501]["ZWARN"].iloc[0] & ZWarn.DUPLICATE_TARGETID
