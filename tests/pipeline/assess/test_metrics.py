import json
import math
import warnings

import numpy as np
import pytest

from pipeline.assess.metrics import (
    NMAD_SCALE,
    NMAD_SCALE_CENTRED,
    bias,
    bias_mean,
    binned_redshift_metrics,
    delta_z,
    format_table,
    gaussian_metrics,
    interval_coverage,
    ism_metrics,
    nmad,
    nmad_centred,
    outlier_fraction,
    pit,
    pit_histogram,
    pit_ks_distance,
    redshift_metrics,
)

ONE_SIGMA = math.erf(1 / math.sqrt(2))  # 0.6827


def _z_pred(z_true, dz):
    """Predictions with the given normalised errors dz = (z_pred - z_true)/(1 + z_true)."""
    z_true = np.asarray(z_true, float)
    return z_true + np.asarray(dz, float) * (1 + z_true)


# Seven objects at various z with hand-picked normalised errors.
Z_TRUE = np.array([0.0, 1.0, 3.0, 0.5, 2.0, 0.0, 1.0])
DZ = np.array([0.01, -0.02, 0.03, 0.0, 0.2, -0.1, 0.04])
Z_PRED = _z_pred(Z_TRUE, DZ)


def test_delta_z_divides_by_one_plus_z_true():
    np.testing.assert_allclose(delta_z([1.1, 3.2, 0.0], [1.0, 3.0, 0.1]), [0.05, 0.05, -1 / 11])


def test_redshift_scores_equal_hand_computed_values():
    # |dz| sorted: 0, .01, .02, .03, .04, .1, .2 -> median .03; dz sorted: -.1, -.02, 0, .01, ...
    assert nmad(Z_PRED, Z_TRUE) == pytest.approx(1.48 * 0.03)
    assert outlier_fraction(Z_PRED, Z_TRUE) == pytest.approx(2 / 7)
    assert bias(Z_PRED, Z_TRUE) == pytest.approx(0.01)
    assert bias_mean(Z_PRED, Z_TRUE) == pytest.approx(0.16 / 7)
    # |dz - 0.01| sorted: 0, .01, .02, .03, .03, .11, .19 -> median .03
    assert nmad_centred(Z_PRED, Z_TRUE) == pytest.approx(1.4826 * 0.03)
    row = redshift_metrics(Z_PRED, Z_TRUE)
    assert row == pytest.approx(dict(n=7, n_failed=0, nmad=0.0444, nmad_centred=0.044478,
                                     eta=2 / 7, bias=0.01, bias_mean=0.16 / 7))


def test_nmad_is_thesis_definition_not_centred():
    # A constant offset of 0.1: the thesis NMAD sees it, the centred one does not.
    z_pred = [0.1, 0.11, 0.09, 0.12, 0.08]
    assert nmad(z_pred, 0.0) == pytest.approx(NMAD_SCALE * 0.1)
    assert nmad_centred(z_pred, 0.0) == pytest.approx(NMAD_SCALE_CENTRED * 0.01)


def test_nmad_of_even_count_averages_middle_values():
    assert nmad([0.01, -0.03, 0.02, 0.5], 0.0) == pytest.approx(1.48 * 0.025)


def test_outlier_threshold_is_strict():
    z_true = np.zeros(4)  # 1 + z = 1 exactly, so dz == z_pred
    edge = np.nextafter(0.05, 1.0)
    assert outlier_fraction([0.05, -0.05, 0.0, 0.0], z_true) == 0.0
    assert outlier_fraction([edge, -edge, 0.0, 0.0], z_true) == 0.5
    assert outlier_fraction([0.1, 0.14, 0.16, 0.0], z_true, threshold=0.15) == 0.25


def test_failed_predictions_count_as_outliers_and_skip_nmad_and_bias():
    z_true = [0.0, 0.0, 0.0, 0.0, np.nan, -1.0]  # last two: no valid truth, dropped
    z_pred = [0.0, 0.01, np.nan, np.inf, 0.3, 0.3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = redshift_metrics(z_pred, z_true)
    assert row["n"] == 4 and row["n_failed"] == 2
    assert row["eta"] == 0.5
    assert row["nmad"] == pytest.approx(1.48 * 0.005)
    assert row["bias"] == pytest.approx(0.005)


def test_all_failed_and_empty_samples_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failed = redshift_metrics([np.nan, np.nan], [1.0, 2.0])
        empty = redshift_metrics([], [])
    assert failed["n"] == 2 and failed["eta"] == 1.0 and math.isnan(failed["nmad"]) and math.isnan(failed["bias"])
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("nmad", "eta", "bias", "bias_mean"))


def test_binned_rows_split_on_edges_and_add_an_all_row():
    z_true = np.array([0.5, 1.0, 2.4, 3.0, 5.8, 7.0])  # 7.0 is above the last edge
    dz = np.array([0.01, -0.1, 0.02, 0.0, 0.04, 0.3])
    rows = binned_redshift_metrics(_z_pred(z_true, dz), z_true, by=z_true, edges=[0.1, 2.4, 5.8])
    assert [r["bin"] for r in rows] == ["[0.1, 2.4)", "[2.4, 5.8]", "all"]
    low, high, everything = rows
    assert low == pytest.approx(dict(low, n=2, eta=0.5, nmad=1.48 * 0.055, bias=-0.045))
    assert high == pytest.approx(dict(high, n=3, eta=0.0, nmad=1.48 * 0.02, bias=0.02))  # 5.8 included
    assert everything["n"] == 6 and everything["eta"] == pytest.approx(2 / 6)
    assert everything["nmad"] == pytest.approx(1.48 * 0.03) and everything["lo"] is None


def test_binned_rows_handle_empty_bins_custom_labels_and_json():
    z_true = np.array([0.5, 1.0, 3.0])
    snr = np.array([3.0, 50.0, np.nan])  # NaN S/N: in no bin, still in "all"
    rows = binned_redshift_metrics(z_true, z_true, by=snr, edges=[0, 5, 10, np.inf],
                                   labels=["S/N<5", "5-10", ">10"])
    assert [r["n"] for r in rows] == [1, 0, 1, 3]
    assert math.isnan(rows[1]["nmad"]) and math.isnan(rows[1]["eta"])
    assert rows[0]["nmad"] == 0.0 and rows[3]["eta"] == 0.0
    back = json.loads(json.dumps(rows))
    assert back[0]["bin"] == "S/N<5" and back[2]["hi"] == math.inf and math.isnan(back[1]["bias"])
    with pytest.raises(ValueError):
        binned_redshift_metrics(z_true, z_true, z_true, edges=[1.0, 0.5])


def test_gaussian_metrics_equal_hand_computed_values():
    pred, true, sigma = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 4.0], [0.5, 1.0, 2.0, 1.0]
    # residuals -0.5, 0, 1, 0; pulls -1, 0, 0.5, 0 (|-1| is not < 1)
    got = gaussian_metrics(pred, sigma, true)
    assert got == pytest.approx(dict(n=4, n_failed=0, rmse=math.sqrt(1.25 / 4), pull_mean=-0.125,
                                     pull_std=math.sqrt(1.1875 / 4), frac_pull_lt_1=0.75))


def test_gaussian_metrics_skip_failed_rows():
    got = gaussian_metrics([1.0, np.nan, 2.0, 5.0, 1.0], [1.0, 1.0, 0.0, 1.0, 1.0],
                           [0.0, 0.0, 0.0, np.nan, 1.0])
    # rows 2 (NaN pred) and 3 (sigma 0) fail; row 4 has no truth
    assert got["n"] == 4 and got["n_failed"] == 2
    assert got["rmse"] == pytest.approx(math.sqrt(0.5)) and got["pull_mean"] == pytest.approx(0.5)


def test_pulls_of_calibrated_gaussian_draws_are_standard_normal():
    rng = np.random.default_rng(1234)
    n = 200_000
    true = rng.normal(8.5, 0.3, n)
    sigma = rng.uniform(0.05, 0.5, n)
    pred = true + sigma * rng.standard_normal(n)
    rows = ism_metrics({"metallicity": pred, "log_q": pred + 0.0},
                       {"metallicity": sigma, "log_q": sigma / 2},  # log_q: sigmas too small by 2
                       {"metallicity": true, "log_q": true})
    good, over = rows
    assert good["property"] == "metallicity" and over["property"] == "log_q"
    assert abs(good["pull_mean"]) < 0.01 and abs(good["pull_std"] - 1) < 0.01
    assert abs(good["frac_pull_lt_1"] - ONE_SIGMA) < 0.005
    assert good["rmse"] == pytest.approx(np.sqrt(np.mean(sigma**2)), rel=0.01)
    assert abs(over["pull_std"] - 2) < 0.02 and over["frac_pull_lt_1"] < 0.45
    with pytest.raises(KeyError):
        ism_metrics({"ebv": pred}, {}, {"ebv": true})


def test_pit_equals_hand_computed_cdf():
    pdf = np.array([[0.2, 0.5, 0.3]] * 6 + [[2.0, 5.0, 3.0], [0.0, 0.0, 0.0]])
    edges = [0.0, 1.0, 2.0, 3.0]
    truth = [1.5, -1.0, 5.0, 3.0, 0.0, 1.0, 1.5, 1.0]
    got = pit(pdf, edges, truth)
    np.testing.assert_allclose(got[:7], [0.45, 0.0, 1.0, 1.0, 0.0, 0.2, 0.45])  # row 6 renormalised
    assert math.isnan(got[7])  # zero row
    assert math.isnan(pit(pdf[:1], edges, [np.nan])[0])
    with pytest.raises(ValueError):
        pit(pdf, edges[:-1], truth)


def test_pit_of_delta_like_pz_on_the_truth_is_position_within_the_bin():
    edges = np.log1p(np.linspace(0.0, 6.0, 61))  # bins in ln(1+z)
    z = np.array([0.05, 1.25, 3.55, 5.95])  # bin centres in z
    j = np.searchsorted(edges, np.log1p(z)) - 1
    pdf = np.zeros((z.size, edges.size - 1))
    pdf[np.arange(z.size), j] = 1.0
    centre = 0.5 * (edges[j] + edges[j + 1])
    np.testing.assert_allclose(pit(pdf, edges, centre), 0.5)
    quarter = edges[j] + 0.25 * (edges[j + 1] - edges[j])
    np.testing.assert_allclose(pit(pdf, edges, quarter), 0.25)


def _draw_from_binned_pdf(rng, pdf, edges):
    """One value per row, drawn from the piecewise-constant density of each row."""
    cdf = np.cumsum(pdf, axis=1)
    j = (cdf < rng.uniform(size=(pdf.shape[0], 1)) * cdf[:, -1:]).sum(axis=1)
    return edges[j] + rng.uniform(size=j.size) * np.diff(edges)[j]


def test_pit_of_the_truths_own_distribution_is_uniform():
    rng = np.random.default_rng(7)
    n, k = 20_000, 40
    edges = np.log1p(np.linspace(0.0, 6.0, k + 1))
    pdf = rng.dirichlet(np.full(k, 0.3), size=n)  # a different p(z) per spectrum
    truth = _draw_from_binned_pdf(rng, pdf, edges)
    u = pit(pdf, edges, truth)
    counts = pit_histogram(u, n_bins=10)
    assert counts.sum() == n
    assert np.all(np.abs(counts - n / 10) < 5 * np.sqrt(n / 10))
    assert pit_ks_distance(u) < 1.63 / np.sqrt(n)  # KS 99 % critical value
    # Truths biased high by 0.1 in ln(1+z) pile the PIT up near 1.
    biased = pit(pdf, edges, truth + 0.1)
    assert pit_ks_distance(biased) > 0.1 and pit_histogram(biased)[-1] > 2 * n / 10


def test_pit_histogram_and_ks_distance_by_hand():
    np.testing.assert_array_equal(pit_histogram([0.0, 0.05, 0.15, 0.95, 1.0, np.nan], n_bins=10),
                                  [2, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    assert pit_ks_distance([0.5]) == 0.5
    assert pit_ks_distance([0.75, 0.25, np.nan]) == 0.25
    assert pit_ks_distance((np.arange(100) + 0.5) / 100) == pytest.approx(0.005)
    assert math.isnan(pit_ks_distance([]))


def test_interval_coverage():
    lo = [0.0, 0.0, 0.0, 0.0, np.nan, 0.0]
    hi = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    truth = [0.0, 1.0, 1.5, -0.1, 0.5, np.nan]  # bounds are inclusive; NaN bound misses
    assert interval_coverage(lo, hi, truth) == pytest.approx(2 / 5)
    rng = np.random.default_rng(3)
    mu, sigma = rng.normal(size=100_000), rng.uniform(0.1, 1.0, 100_000)
    truth = mu + sigma * rng.standard_normal(mu.size)
    assert abs(interval_coverage(mu - sigma, mu + sigma, truth) - ONE_SIGMA) < 0.005


def test_format_table_prints_aligned_rows():
    rows = [{"bin": "[0.1, 2.4)", "n": 12, "eta": 1 / 3, "nmad": 0.0123456},
            {"bin": "all", "n": 0, "eta": float("nan"), "nmad": None}]
    text = format_table(rows, ["bin", "n", ("eta", ".1%"), "nmad"])
    lines = text.split("\n")
    assert len(lines) == 4 and lines[0].split() == ["bin", "n", "eta", "nmad"]
    assert lines[2].split()[-3:] == ["12", "33.3%", "0.0123"]
    assert lines[3].split() == ["all", "0", "nan%"]
    assert len({len(line) for line in lines}) == 1  # aligned columns
