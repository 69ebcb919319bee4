"""The real-spectra table: Δz/(1+z), verdicts, bit names, training-range check."""

import numpy as np

from pipeline.assess import real_spectra
from pipeline.assess.zwarning import ZWarn


def test_rows_compare_each_redshift_with_the_published_one():
    rows = real_spectra.rows(["a", "b", "c", "d"], ["SDSS"] * 4, [0.1, 0.5, 1.0, 7.0],
                             np.array([0.1001, 0.6, 1.5, 7.0], np.float32),
                             np.array([0, int(ZWarn.LOW_SNR | ZWarn.BROAD_PZ), 0, 0]), (0.005, 6.0))
    assert [r["verdict"] for r in rows] == ["ok", "flagged", "missed", "ok"]
    assert abs(rows[0]["dz_1pz"] - 1e-4 / 1.1) < 1e-7 and abs(rows[2]["dz_1pz"] - 0.25) < 1e-6
    assert rows[1]["bits"] == "LOW_SNR,BROAD_PZ" and rows[0]["bits"] == "-"
    assert [r["z_in_training_range"] for r in rows] == ["yes", "yes", "yes", "no"]
    text = real_spectra.markdown(rows)
    assert text.startswith("| id | survey | z_published |") and "| +2.50e-01 |" in text
    assert "4 real spectra: 2 within" in text and "1 off but flagged" in text and "1 off and unflagged" in text
