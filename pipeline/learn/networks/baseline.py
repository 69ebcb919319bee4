"""The thesis CNN "as published" (Pattnaik, Master's thesis, §3.2 and Fig. 13).

Stated by the thesis
--------------------
* Input: two channels, the observed wavelength (Å) and the flux of each pixel,
  8,912 pixels (DEIMOS; §2.2 steps 4-5 and §5: "2 channels of 8912 wavelength and
  flux values"); the flux normalised to (0, 1) per spectrum (§2.2 step 5, §4). The
  thesis does not say how the wavelength channel was scaled: here it gets the same
  per-spectrum min-max scaling.
* Layers: Conv-Conv-Pool, Conv-Conv-Pool, Conv-Pool, Conv-Pool, then two
  fully-connected layers and one output neuron, the redshift (§3.2).
* First convolution kernel 4 px, stride 2; every other convolution kernel 2 px,
  stride 1; ReLU throughout; max pooling (§3.2).
* Training (not part of this module): Adam, lr 1e-3, MSE loss, batch 32, early
  stopping with patience 5 (§3.2).
* 1,710,589 trainable parameters, PyTorch (§3.2).

Inferred here (the thesis states none of these)
-----------------------------------------------
Filter counts, dense widths, pooling size and padding. They were found by an
exhaustive search for configurations with exactly 1,710,589 trainable
parameters: input 8,912 px; PyTorch defaults (no padding, pooling stride = size,
biases everywhere, no BatchNorm); filter counts non-decreasing powers of two
2-1024 ("the number of features increases", §3.2); pooling size the same at every
pooling layer, 2-5; dense widths d1 >= d2 from powers of two and round numbers
(10-90, 100-900, 1000-9000, 25, 50, 75, 150, 250, 500); padding none or
"same". The matches are ((*): "same" padding gives the same count):

=====  ==============================  ===========  ==========
pool   filters (conv1..conv6)           dense        padding
=====  ==============================  ===========  ==========
4      4, 8, 8, 32, 32, 128            700, 250     none (*)    <- chosen
5      8, 16, 32, 32, 64, 512          500, 200     none
5      4, 8, 128, 128, 512, 1024       80, 32       none
5      4, 4, 4, 256, 512, 1024         64, 40       none
5      2, 64, 64, 512, 512, 1024       10, 8        none
5      4, 4, 4, 4, 4, 32               6000, 60     same
5      32, 128, 256, 256, 512, 512     200, 2       same
=====  ==============================  ===========  ==========

Chosen: the only match with a pooling size below 5; 4 is also StarNet's pool
length (Fabbro et al. 2018, named in §3.2 as the model's origin), and the first
layer has StarNet's 4 filters. Allowing different pooling sizes per layer
or padding 1 gives more matches, equally arbitrary (e.g. pools 8, 4, 2, 2 with
filters 2, 2, 2, 2, 32, 128 and dense 400, 30; pool 2 with padding 1, filters
2, 8, 32, 32, 256, 512, dense 10, 10). No configuration with pool 2, powers-of-two
filters and powers-of-two dense widths matches, nor any with equal filters in each
Conv-Conv pair doubling per block (with or without BatchNorm). An 8,192-px input
would allow pool 3, filters 32, 32, 64, 64, 128, 128, dense 256, 30, but the
thesis gives 8,912 throughout. The published count thus pins the architecture down only
as far as this table: treat the filter counts and widths as a reconstruction.

Shapes for the default 8,912-px input (channels x length):

=========================  ============  ==========
layer                      output        MACs
=========================  ============  ==========
input                      2 x 8912
conv1 k4 s2, ReLU          4 x 4455      142,560
conv2 k2, ReLU             8 x 4454      285,056
maxpool 4                  8 x 1113
conv3 k2, ReLU             8 x 1112      142,336
conv4 k2, ReLU             32 x 1111     568,832
maxpool 4                  32 x 277
conv5 k2, ReLU             32 x 276      565,248
maxpool 4                  32 x 69
conv6 k2, ReLU             128 x 68      557,056
maxpool 4                  128 x 17
flatten                    2176
dense, ReLU                700           1,523,200
dense, ReLU                250           175,000
output (redshift)          1             250
=========================  ============  ==========

Total 3,959,538 MACs per spectrum and 1,710,589 trainable parameters.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Pixels per DEIMOS spectrum (thesis §2.2 steps 4-5, §5).
N_PIXELS = 8912
#: Input channels: observed wavelength and flux (thesis §3.2).
IN_CHANNELS = 2
#: Convolutions per block: Conv-Conv-Pool x 2, Conv-Pool x 2 (thesis §3.2).
BLOCKS = (2, 2, 1, 1)
#: First convolution: kernel 4 px, stride 2; all others kernel 2, stride 1 (thesis §3.2).
FIRST_KERNEL, FIRST_STRIDE = 4, 2
KERNEL, STRIDE = 2, 1
#: Inferred (see module doc): filters per convolution, max-pooling size, dense widths.
FILTERS = (4, 8, 8, 32, 32, 128)
POOL = 4
HIDDEN = (700, 250)
#: Trainable parameters of the published network (thesis §3.2).
PUBLISHED_PARAMETERS = 1_710_589


def _conv_length(length: int, kernel: int, stride: int) -> int:
    """Output length of an unpadded convolution."""
    return (length - kernel) // stride + 1


def feature_length(n_pixels: int, blocks=BLOCKS, pool: int = POOL) -> int:
    """Length of the last feature map (before flattening) for an ``n_pixels`` input."""
    length, first = n_pixels, True
    for n_conv in blocks:
        for _ in range(n_conv):
            k, s = (FIRST_KERNEL, FIRST_STRIDE) if first else (KERNEL, STRIDE)
            length, first = _conv_length(length, k, s), False
        length //= pool
    return length


def _features(filters, blocks, pool: int) -> nn.Sequential:
    """Conv(+ReLU) blocks, each closed by a max pooling of size ``pool``."""
    layers: list[nn.Module] = []
    c_in, i = IN_CHANNELS, 0
    for n_conv in blocks:
        for _ in range(n_conv):
            k, s = (FIRST_KERNEL, FIRST_STRIDE) if i == 0 else (KERNEL, STRIDE)
            layers += [nn.Conv1d(c_in, filters[i], k, stride=s), nn.ReLU()]
            c_in, i = filters[i], i + 1
        layers.append(nn.MaxPool1d(pool))
    return nn.Sequential(*layers)


def _head(n_in: int, hidden) -> nn.Sequential:
    """Flatten, dense layers with ReLU, one linear output neuron."""
    layers: list[nn.Module] = [nn.Flatten()]
    for width in hidden:
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    layers.append(nn.Linear(n_in, 1))
    return nn.Sequential(*layers)


class BaselineCNN(nn.Module):
    """The thesis CNN: (B, 2, n_pixels) float32 -> (B,) redshift.

    Input channels: 0 = observed wavelength, 1 = flux, each min-max scaled to
    [0, 1] per spectrum (``baseline_inputs``). Output: redshift z (dimensionless),
    a plain regression (MSE loss in the thesis).
    """

    def __init__(self, n_pixels: int = N_PIXELS, filters=FILTERS, hidden=HIDDEN, pool: int = POOL):
        super().__init__()
        filters, hidden = tuple(int(f) for f in filters), tuple(int(h) for h in hidden)
        if len(filters) != sum(BLOCKS):
            raise ValueError(f"filters: need {sum(BLOCKS)} values (one per convolution), got {len(filters)}")
        length = feature_length(n_pixels, BLOCKS, pool)
        if length < 1:
            raise ValueError(f"n_pixels={n_pixels} is too short for this network (last feature map is empty)")
        self.config = {"n_pixels": n_pixels, "filters": list(filters), "hidden": list(hidden), "pool": pool}
        self.features = _features(filters, BLOCKS, pool)
        self.head = _head(filters[-1] * length, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(-1)


def _minmax(a: torch.Tensor) -> torch.Tensor:
    """Scale each row of (B, n) to [0, 1]; constant rows become 0 (no NaN)."""
    lo = a.amin(dim=1, keepdim=True)
    span = a.amax(dim=1, keepdim=True) - lo
    return torch.where(span > 0, (a - lo) / torch.where(span > 0, span, 1.0), 0.0)


def _rows(a) -> torch.Tensor:
    """A (B, n) float64 tensor from an array or tensor of shape (B, n) or (n,)."""
    t = a.to(torch.float64) if isinstance(a, torch.Tensor) else torch.from_numpy(np.asarray(a, dtype=np.float64))
    return t.unsqueeze(0) if t.ndim == 1 else t


def baseline_inputs(wavelength, flux) -> torch.Tensor:
    """(B, 2, n) float32 network input from wavelength and flux.

    wavelength: (B, n) or (n,) observed wavelengths (Å; shared by all rows when 1-D);
    flux: (B, n) or (n,) flux density in any unit. Values must be finite. Each row
    of each channel is min-max scaled to [0, 1] independently (thesis §3.2, §4), in
    float64 before the cast; a constant row maps to 0.
    """
    f = _rows(flux)
    w = _rows(wavelength).expand_as(f)
    return torch.stack([_minmax(w), _minmax(f)], dim=1).to(torch.float32)


class BaselineTask:
    """How training and scoring talk to ``BaselineCNN`` (see ``training``).

    Input window: ``n_pixels`` grid pixels from the first covered pixel (moved left if
    it would run past the grid): the thesis fed each DEIMOS spectrum's own pixels.
    Channels: wavelength scaled to [0, 1] over the model grid's fixed range, flux
    min-max scaled per spectrum (thesis §4). Deviation, on purpose: the thesis's
    wavelength arrays differed from spectrum to spectrum; windows cut from one
    log grid would all scale to the same ramp per row, so the scale is global here.
    """

    name = "baseline"

    def __init__(self, wavelength: np.ndarray, n_pixels: int = N_PIXELS):
        self.wavelength = np.asarray(wavelength, dtype=np.float64)
        self.n_pixels = min(n_pixels, len(self.wavelength))
        lo, hi = self.wavelength[0], self.wavelength[-1]
        self.scaled = ((self.wavelength - lo) / (hi - lo)).astype(np.float32)

    def build(self, n_pixels: int | None = None) -> BaselineCNN:
        return BaselineCNN(self.n_pixels)

    def inputs(self, flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
        covered = (ivar > 0) & np.isfinite(flux)
        first = np.where(covered.any(axis=1), covered.argmax(axis=1), 0)
        start = np.minimum(first, len(self.wavelength) - self.n_pixels)
        idx = start[:, None] + np.arange(self.n_pixels)
        f = np.take_along_axis(np.where(covered, flux, 0.0), idx, axis=1)
        lo, hi = f.min(axis=1, keepdims=True), f.max(axis=1, keepdims=True)
        span = np.where(hi > lo, hi - lo, 1.0)
        return np.stack([self.scaled[idx], (f - lo) / span], axis=1).astype(np.float32)

    def targets(self, labels: dict) -> dict[str, np.ndarray]:
        return {"z": labels["z"].astype(np.float32)}

    def loss(self, outputs, targets) -> torch.Tensor:
        return torch.mean((outputs.float() - targets["z"]) ** 2)

    def predict(self, outputs) -> dict[str, np.ndarray]:
        return {"z": outputs.detach().float().cpu().numpy().astype(np.float64)}

    def card(self) -> dict:
        return {"task": self.name, "n_pixels": self.n_pixels}
