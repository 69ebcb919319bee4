import numpy as np
import pytest

from pipeline.assess import evaluation


def _catalogue(z_pred, snr, zwarn=None):
    n = len(z_pred)
    z = np.asarray(z_pred, float)
    return {"Z": z, "Z_LO": z - 0.01, "Z_HI": z + 0.01, "SN_MEDIAN": np.asarray(snr, float),
            "ZWARN": np.zeros(n, int) if zwarn is None else np.asarray(zwarn)}


def test_headline_counts_outliers_over_all_rows_and_usable_sn():
    z_true = np.array([0.5, 1.0, 2.0, 3.0])
    z_pred = np.array([0.5, 1.0, 2.5, 3.0])  # one outlier, at S/N 3
    cat = _catalogue(z_pred, [10, 20, 3, 8], zwarn=[0, 0, 4, 0])
    head = evaluation.headline(cat, {"z": z_true})
    assert head["n"] == 4 and head["eta"] == pytest.approx(0.25)
    assert head["n_snr5"] == 3 and head["eta_snr5"] == 0.0
    assert head["clean_fraction"] == pytest.approx(0.75)
    assert head["coverage_68"] == pytest.approx(0.75)  # the outlier's interval misses


def test_tables_bin_by_true_z_and_measured_sn():
    z_true = np.array([0.2, 0.7, 1.2, 3.0, 5.0])
    cat = _catalogue(z_true, [1.0, 3.0, 7.0, 15.0, 50.0])
    by_z = evaluation.redshift_by_z(cat, {"z": z_true})
    assert [r["n"] for r in by_z] == [1, 1, 1, 0, 1, 1, 5]
    assert by_z[0]["bin"] == "0 ≤ z < 0.5" and by_z[-1]["bin"] == "all"
    by_snr = evaluation.redshift_by_snr(cat, {"z": z_true})
    assert [r["n"] for r in by_snr] == [1, 1, 1, 1, 1, 5]
    assert by_snr[-2]["bin"] == "S/N ≥ 20"


def test_ism_table_pairs_catalogue_columns_with_their_truth():
    rng = np.random.default_rng(1)
    true = rng.normal(8.5, 0.3, 1000)
    cat = {"OH12": true + rng.normal(0, 0.1, 1000), "OH12_ERR": np.full(1000, 0.1)}
    rows = evaluation.ism_table(cat, {"metallicity": true, "z": np.ones(1000)})
    assert [r["property"] for r in rows] == ["OH12"]
    assert rows[0]["rmse"] == pytest.approx(0.1, rel=0.1) and rows[0]["pull_std"] == pytest.approx(1.0, rel=0.1)
    pred, truth, labels = evaluation.ism_pairs(cat, {"metallicity": true})
    assert list(labels) == ["OH12"] and labels["OH12"] == "gas-phase 12 + log10(O/H)"
    assert evaluation.ism_table({}, {"z": true}) == []


def test_pit_of_a_p_z_centred_on_the_truth_is_one_half():
    from pipeline.learn.pz import ZBins

    bins = ZBins()
    z = np.array([0.5, 2.0])
    pz = bins.soft_targets(z, sigma_bins=3.0)
    assert evaluation.pit(pz, z, bins) == pytest.approx([0.5, 0.5], abs=0.03)


def test_sample_rows_spreads_over_the_rows():
    assert evaluation.sample_rows(5, 10).tolist() == [0, 1, 2, 3, 4]
    rows = evaluation.sample_rows(1000, 5)
    assert rows.tolist() == [0, 250, 500, 749, 999]
