"""The evaluation report holds the model's table on real spectra when they are unpacked."""

import pytest

from flows.jobs.evaluate import REAL_SPECTRA_TITLE, EvaluateRequest, build_report, load
from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.assess.report import to_markdown
from pipeline.learn import weights
from storage import real_spectra


@pytest.mark.skipif(not real_spectra.available(),
                    reason="real spectra not unpacked: run `python scripts/unpack_real_spectra.py`")
def test_evaluation_report_has_the_real_spectra_table(tmp_path):
    path, model, out = str(tmp_path / "survey.zarr"), weights.resolve(weights.DEFAULT), str(tmp_path / "cat")
    for index in prepare(GenerateRequest(path, n=64, chunk=64, seed=3, instrument="sdss", kind="survey")):
        fill_chunk(path, index)
    score_chunk(path, model, out, 0)
    merge(ScoreRequest(path, model, out))
    request = EvaluateRequest(out).resolved()
    report, _ = build_report(request, *load(request), None, {})
    rows, _ = report.tables[REAL_SPECTRA_TITLE]
    assert [r["id"] for r in rows] == [s.id for s in real_spectra.spectra()]
    text = to_markdown(report)
    assert f"## {REAL_SPECTRA_TITLE}" in text and "| legac-m19-56670 | LEGA-C DR3" in text
    assert any(line.startswith("5 real spectra:") for line in report.lines)
