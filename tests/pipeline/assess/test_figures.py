"""Evaluation figures are written as PNG files (the content is for a person to read)."""

import numpy as np
from PIL import Image

from pipeline.assess import figures


def _png(path):
    with Image.open(path) as image:
        return image.format, image.size


def test_redshift_pit_and_ism_panels_are_written(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 5.0, 500)
    z_pred = z + rng.normal(0, 0.01, z.size) * (1 + z)
    z_pred[:10] = rng.uniform(0.1, 5.0, 10)  # outliers
    paths = [figures.redshift_panels(z_pred, z, tmp_path / "z.png"),
             figures.pit_panel(rng.random(500), tmp_path / "pit.png"),
             figures.ism_panels({"oh12": z}, {"oh12": z_pred}, {"oh12": "12+log(O/H)", "missing": "x"},
                                tmp_path / "ism.png")]
    for path in paths:
        fmt, (width, height) = _png(path)
        assert fmt == "PNG" and width > 300 and height > 200
