"""Ingest without Prefect: survey FITS files -> survey store, with bad input flagged."""

import numpy as np
import pytest
from survey_files import WAVE, desi_file, sdss_file

from flows.jobs.ingest import IngestRequest, check, fill_chunk, index_files, prepare, quarantine
from pipeline.assess.zwarning import ZWarn
from storage import store, survey_store


def ingest(files, out, chunk=3):
    request = IngestRequest(tuple(str(f) for f in files), str(out), chunk=chunk)
    for index in prepare(request, index_files(request.files)):
        fill_chunk(str(out), index)
    return store.open_dataset(out).load()


def test_sdss_desi_and_bad_files_become_one_row_each_or_a_quarantine_entry(tmp_path):
    nan_flux = np.where(np.arange(WAVE.size) == 50, np.nan, 2.0)
    files = [sdss_file(tmp_path / "a.fits", 11), desi_file(tmp_path / "b.fits", (21, 22, 11)),
             sdss_file(tmp_path / "c.fits", 31, flux=nan_flux), tmp_path / "broken.fits",
             sdss_file(tmp_path / "d.fits", 41, ivar=np.zeros(WAVE.size))]
    (tmp_path / "broken.fits").write_bytes(b"not a FITS file at all")
    ds = ingest(files, tmp_path / "survey.zarr")
    assert ds["targetid"].values.tolist() == [11, 21, 22, 11, 31, 41]
    assert [q["path"] for q in quarantine(tmp_path / "survey.zarr")] == [str(tmp_path / "broken.fits")]
    bits = ds["zwarn_input"].values
    assert bits[0] & ZWarn.DUPLICATE_TARGETID and bits[3] & ZWarn.DUPLICATE_TARGETID and not bits[1]
    assert not bits[4]  # one NaN pixel: masked, the spectrum is used on the rest without a bit
    flux, ivar = survey_store.unpack({k: ds[k].values for k in ("flux", "ivar", "flux_scale")})
    assert np.isfinite(flux).all() and np.isfinite(ivar).all()
    assert np.all(ivar[5] == 0)  # all-zero ivar: nothing covered, still a row
    covered = ivar[1] > 0
    np.testing.assert_allclose(flux[1][covered], 1.0, rtol=2e-3)  # DESI arms of flux 1, merged
    assert store.verify(tmp_path / "survey.zarr").ok


def test_rerun_resumes_and_other_files_are_refused(tmp_path):
    files = [sdss_file(tmp_path / f"s{i}.fits", i) for i in range(5)]
    out = tmp_path / "survey.zarr"
    request = IngestRequest(tuple(map(str, files)), str(out), chunk=2)
    todo = prepare(request, index_files(request.files))
    fill_chunk(str(out), todo[0])
    assert check(request) == "resume" and prepare(request, []) == todo[1:]
    for index in todo[1:]:
        fill_chunk(str(out), index)
    assert check(request) == "complete"
    other = IngestRequest(tuple(map(str, files[:3])), str(out))
    try:
        check(other)
    except ValueError as err:
        assert "other files" in str(err)
    else:
        raise AssertionError("a store of other files was accepted")


def test_glob_patterns_expand_in_sorted_order_and_must_match(tmp_path):

    for name in ("b.fits", "a.fits", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    request = IngestRequest((str(tmp_path / "*.fits"), str(tmp_path / "c.txt")), str(tmp_path / "s.zarr"))
    assert request.files == (str(tmp_path / "a.fits"), str(tmp_path / "b.fits"), str(tmp_path / "c.txt"))
    with pytest.raises(ValueError, match="no file matches .*nothing-"):
        IngestRequest((str(tmp_path / "nothing-*.fits"),), str(tmp_path / "s.zarr"))
