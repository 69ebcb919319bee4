"""Round trip of the three classes: a quasar, a star and a galaxy (two of each), written as
SDSS spec-lite and DESI coadd files, ingested and scored with the shipped class model, come
back with the right SPECTYPE (and the star with a SUBTYPE)."""

import numpy as np
import pytest
from survey_files import desi_coadd, ingest_and_score, sdss_files

from pipeline.learn.training import read_card
from pipeline.learn.weights import shipped_dir
from pipeline.physics.instruments import get_instrument
from pipeline.physics.simulate import chunk_params, simulate
from pipeline.physics.spectypes import CODES, SPECTYPES

#: Two of each class, at a clear S/N.
PER_CLASS = 2
SNR = 20.0


def _classes(instrument: str, seed: int):
    """(spectype names (6,), wavelength, flux, ivar) of two quasars, two stars, two galaxies."""
    params, config = chunk_params(0, 400, seed, "survey", get_instrument(instrument))
    kind = params["spectype"].astype(int)
    # quasars below z = 3.5 and galaxies below z = 1.5: well inside what any instrument covers
    pick = np.concatenate([np.flatnonzero((kind == CODES[name]) & (params["z"] < limit))[:PER_CLASS]
                           for name, limit in (("QSO", 3.5), ("STAR", 1.0), ("GALAXY", 1.5))])
    table = {k: v[pick] for k, v in params.items()}
    table["snr"] = np.full(len(pick), SNR)
    spectra = simulate(table, config, seed)
    return np.asarray([SPECTYPES[k] for k in kind[pick]]), spectra.wavelength, spectra.flux, spectra.ivar


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    model = str(shipped_dir("survey-classes"))
    assert read_card(model)["classes"] == list(SPECTYPES.values())
    d = tmp_path_factory.mktemp("classes")
    truth, files = {}, []
    for k, instrument in enumerate(("sdss", "desi")):
        names, wave, flux, ivar = _classes(instrument, 500 + k)
        ids = 1_000 * (k + 1) + np.arange(len(names))
        truth.update(zip(ids.tolist(), names))
        files += (sdss_files(d, int(ids[0]), wave, flux, ivar) if instrument == "sdss"
                  else [desi_coadd(d / "coadd.fits", ids, wave, flux, ivar)])
    cat = ingest_and_score(d, files, model)
    cat["TRUE_SPECTYPE"] = cat["TARGETID"].map(truth)
    return cat


@pytest.mark.slow
def test_each_class_is_scored_to_its_spectype(scored):
    print(scored[["TARGETID", "TRUE_SPECTYPE", "SPECTYPE", "SUBTYPE", "P_QSO", "P_STAR", "Z", "ZWARN"]])
    assert (scored["SPECTYPE"] == scored["TRUE_SPECTYPE"]).all()
    stars = scored[scored["SPECTYPE"] == "STAR"]
    assert (stars["SUBTYPE"] != "").all() and (np.abs(stars["Z"]) < 0.002).all()
