"""Streamed FITS binary tables read back exactly like a table astropy wrote whole."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table, vstack

from storage import fits_stream


def batches():
    rng = np.random.default_rng(0)
    for k, n in enumerate((5, 3, 7)):
        yield {"TARGETID": np.arange(n, dtype=np.int64) + 100 * k, "Z": rng.random(n),
               "ZERR": rng.random(n).astype(np.float32), "CHUNK": np.full(n, k, np.int32),
               "MODEL_ID": np.array([f"m{'x' * k}"] * n)}


def test_streamed_table_matches_astropy_and_verifies(tmp_path):
    header, dtype = fits_stream.template(next(batches()), {"Z": "", "ZERR": "km / s"},
                                         {"MODELID": "m-1", "COMMENT": ["LOG_SFR unit: dex(Msun / yr)"]},
                                         {"MODEL_ID": 3})
    fits_stream.write(tmp_path / "s.fits", header, dtype, 15, batches())
    with fits.open(tmp_path / "s.fits") as hdus:
        hdus.verify("exception")
        assert hdus[1].header["MODELID"] == "m-1" and "LOG_SFR unit" in str(hdus[1].header["COMMENT"])
    got = Table.read(tmp_path / "s.fits")
    vstack([Table(b) for b in batches()]).write(tmp_path / "whole.fits")
    want = Table.read(tmp_path / "whole.fits")  # the same table written whole by astropy
    assert got.colnames == want.colnames and len(got) == 15
    for name in want.colnames:
        assert np.array_equal(np.asarray(got[name]), np.asarray(want[name])), name
    assert str(got["ZERR"].unit) == "km / s"
    assert (tmp_path / "s.fits").stat().st_size % 2880 == 0


def test_wrong_row_count_and_logical_columns_are_refused(tmp_path):
    header, dtype = fits_stream.template(next(batches()), {}, {}, {"MODEL_ID": 3})
    with pytest.raises(ValueError, match="wrote 15 rows, expected 16"):
        fits_stream.write(tmp_path / "s.fits", header, dtype, 16, batches())
    with pytest.raises(TypeError, match="logical"):
        fits_stream.template({"OK": np.array([True])}, {}, {}, {})
