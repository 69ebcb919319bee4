"""Scoring without Prefect: one catalogue row per input spectrum, flagged, resumable."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits as fits_io
from astropy.table import Table
from survey_files import WAVE, desi_file, sdss_file

from flows.jobs.ingest import IngestRequest, fill_chunk, index_files, prepare
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.assess.zwarning import ZWarn
from pipeline.fit.templates import n_templates
from storage import catalogue, store


@pytest.fixture(scope="module")
def survey_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("survey")
    files = [sdss_file(d / "a.fits", 1), desi_file(d / "b.fits", (2, 3, 1)),
             sdss_file(d / "c.fits", 4, ivar=np.zeros(WAVE.size)),
             sdss_file(d / "d.fits", 5, flux=np.where(np.arange(WAVE.size) < 20, np.inf, 1.0))]
    request = IngestRequest(tuple(map(str, files)), str(d / "survey.zarr"), chunk=2)
    for index in prepare(request, index_files(request.files)):
        fill_chunk(request.out, index)
    return request.out


def score_all(survey_store, model, out, order, refine=True):
    for index in order:
        score_chunk(survey_store, model, str(out), index, refine)
    return merge(ScoreRequest(survey_store, model, str(out), refine))


def test_catalogue_has_one_flagged_row_per_spectrum_in_input_order(survey_store, tiny_model, tmp_path):
    result = score_all(survey_store, tiny_model, tmp_path, range(3))
    assert result["rows"] == 6
    cat = pq.read_table(tmp_path / "catalogue.parquet").to_pandas()
    assert cat["TARGETID"].tolist() == [1, 2, 3, 1, 4, 5]
    assert cat["ZWARN"][0] & ZWarn.DUPLICATE_TARGETID and cat["ZWARN"][3] & ZWarn.DUPLICATE_TARGETID
    assert cat["ZWARN"][4] & ZWarn.NODATA and cat["NPIX_GOOD"][4] == 0
    # 20 inf pixels are masked, the rest scored: fewer pixels, no BAD_INPUT (kept for spectra with none left)
    assert not cat["ZWARN"][5] & ZWarn.BAD_INPUT and 0 < cat["NPIX_GOOD"][5] < cat["NPIX_GOOD"][0]
    assert np.isfinite(cat["Z"]).all() and (cat["Z_LO"] <= cat["Z_HI"]).all()
    assert {"LOG_SFR", "LOG_SFR_ERR", "OH12", "EBV_ERR", "MODEL_ID", "CHUNK", "Z2", "Z2_PROB"} <= set(cat.columns)
    fits = Table.read(tmp_path / "catalogue.fits", hdu="REDSHIFTS")
    assert len(fits) == 6 and str(fits["EBV"].unit) == "mag" and fits.meta["MODELID"].startswith("default-")
    with fits_io.open(tmp_path / "catalogue.fits") as hdus:
        header = hdus["REDSHIFTS"].header
        units = {header[f"TTYPE{i}"]: header.get(f"TUNIT{i}") for i in range(1, header["TFIELDS"] + 1)}
    assert units["LOG_SFR"] == "dex(solMass / yr)" and units["EBV"] == "mag"


def test_refined_catalogue_has_the_fit_columns_and_no_refine_the_network(survey_store, tiny_model, tmp_path):
    score_all(survey_store, tiny_model, tmp_path / "fit", range(3))
    fit = catalogue.read(tmp_path / "fit")
    assert fit["COEFF"].shape == (6, n_templates()) and fit["COEFF"].dtype == np.float32
    scored = fit["NPIX_FIT"] > 0
    assert scored.sum() == 5 and np.isfinite(fit["CHI2"][scored]).all() and (fit["DELTACHI2"][scored] >= 0).all()
    assert np.isfinite(fit["Z_NET"]).all() and np.isfinite(fit["ZERR"][scored]).all()
    assert Table.read(tmp_path / "fit" / "catalogue.fits", hdu="REDSHIFTS")["COEFF"].shape == (6, n_templates())
    score_all(survey_store, tiny_model, tmp_path / "net", range(3), refine=False)
    net = catalogue.read(tmp_path / "net")
    assert np.array_equal(net["Z"], net["Z_NET"]) and np.isnan(net["CHI2"]).all() and (net["NPIX_FIT"] == 0).all()
    assert np.allclose(net["Z_NET"], fit["Z_NET"])  # the same network under both
    assert catalogue.provenance(tmp_path / "net")["refined"] is False


def test_interrupted_scoring_resumes_to_the_same_catalogue(survey_store, tiny_model, tmp_path):
    once = tmp_path / "once"
    score_all(survey_store, tiny_model, once, range(3))
    resumed = tmp_path / "resumed"
    score_chunk(survey_store, tiny_model, str(resumed), 1)  # "killed" after one chunk
    with pytest.raises(ValueError, match="parts missing for chunks \\[0, 2\\]"):
        merge(ScoreRequest(survey_store, tiny_model, str(resumed)))
    assert catalogue.missing_parts(resumed, 3) == [0, 2]
    score_all(survey_store, tiny_model, resumed, catalogue.missing_parts(resumed, 3))
    a = pq.read_table(once / "catalogue.parquet").to_pandas()
    b = pq.read_table(resumed / "catalogue.parquet").to_pandas()
    assert a.equals(b)


def test_score_refuses_a_training_store_and_a_bad_model(small_training_store, survey_store, tmp_path):
    with pytest.raises(ValueError, match="is a training store"):
        ScoreRequest(small_training_store, str(tmp_path), str(tmp_path / "cat")).check()
    with pytest.raises(ValueError, match="card.json: missing"):
        ScoreRequest(survey_store, str(tmp_path), str(tmp_path / "cat")).check()
    assert store.exists(survey_store)
