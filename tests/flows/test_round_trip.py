"""Round trip with real files: simulated spectra of known redshift written as SDSS,
DESI and table FITS files (astropy), ingested, scored with the shipped model."""

import numpy as np
import pytest
from survey_files import desi_coadd, ingest_and_score, sdss_files, simulated, table_files

from pipeline.assess.zwarning import ZWarn
from pipeline.learn.weights import shipped_dir

N = 16  # spectra per format
#: Bits that say the input itself is unusable (none expected for these spectra).
INPUT_BITS = ZWarn.BAD_INPUT | ZWarn.NODATA | ZWarn.LITTLE_COVERAGE | ZWarn.UNSORTED_WAVELENGTH


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = tmp_path_factory.mktemp("roundtrip")
    truth, files = {}, []
    for k, (instrument, write) in enumerate([("sdss", sdss_files), ("desi", None), ("sdss", table_files)]):
        z, wave, flux, ivar = simulated(N, instrument, seed=300 + k, snr=30.0)
        ids = 1_000 * (k + 1) + np.arange(N)
        truth.update(zip(ids.tolist(), z))
        files += ([desi_coadd(d / "coadd.fits", ids, wave, flux, ivar)] if write is None
                  else write(d, int(ids[0]), wave, flux, ivar))
    model = str(shipped_dir("survey"))
    cat = ingest_and_score(d, files, model)
    cat["TRUE_Z"] = cat["TARGETID"].map(truth)
    return cat


def test_every_targetid_once_in_file_order(scored):
    expected = [1_000 * (k + 1) + i for k in range(3) for i in range(N)]
    assert scored["TARGETID"].tolist() == expected


def test_clean_spectra_have_their_redshift_recovered(scored):
    assert not (scored["ZWARN"] & int(INPUT_BITS)).any(), scored["ZWARN"].map(ZWarn).tolist()
    dz = np.abs(scored["Z"] - scored["TRUE_Z"]) / (1 + scored["TRUE_Z"])
    for fmt, rows in scored.groupby(scored["TARGETID"] // 1_000):
        good = dz[rows.index] < 0.01
        print(f"format {fmt}: {good.mean():.0%} within |dz|/(1+z) < 0.01; median {np.median(dz[rows.index]):.5f}")
        assert good.sum() >= N - 1 and np.median(dz[rows.index]) < 0.002, rows.assign(dz=dz[rows.index])[["TRUE_Z", "Z", "ZWARN"]]
