import numpy as np

from pipeline.assess import report


def _report(tmp_path):
    png = tmp_path / "out" / "fig.png"
    png.parent.mkdir()
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    rows = [{"bin": "all", "n": 3, "eta": 0.125, "nmad": float("nan")}]
    return report.Report("title <x>", ["a line"], {"Table": (rows, ["bin", "n", ("eta", ".1%"), ("nmad", ".4f")])},
                         {"A figure": png})


def test_cells_format_and_show_missing_values_as_a_dash():
    assert report.cell(0.125, ".1%") == "12.5%"
    assert report.cell(float("nan"), ".3f") == "–" and report.cell(None) == "–"
    assert report.cell(np.int64(7)) == "7"


def test_markdown_has_the_tables_and_relative_figure_links(tmp_path):
    paths = report.write(_report(tmp_path), tmp_path / "out")
    text = paths["markdown"].read_text()
    assert "| bin | n | eta | nmad |" in text and "| all | 3 | 12.5% | – |" in text
    assert "![A figure](fig.png)" in text and "- a line" in text


def test_html_is_one_self_contained_page_with_escaped_text(tmp_path):
    paths = report.write(_report(tmp_path), tmp_path / "out")
    page = paths["html"].read_text()
    assert "title &lt;x&gt;" in page and "<td>12.5%</td>" in page
    assert "src='data:image/png;base64," in page and "fig.png" not in page
