"""The default network: a lean residual 1D CNN with a p(z) head and ISM heads.

Input: flux and inverse variance on the common log-wavelength grid (10,240 pixels),
averaged over 4 pixels (131 km/s, still 4.5x finer than the 600 km/s of
dz/(1+z) = 0.002) and prepared by ``prepare_inputs`` into two channels --
asinh(flux / rms) and an S/N channel (0 where ivar = 0). On this grid a redshift is a
shift, which convolutions handle naturally; the flattened last feature map keeps
where a feature sits.

Outputs: logits over ``pz.ZBins`` (u = ln(1+z) in 0.002 steps) and, per ISM
property, a Gaussian mean and log-variance in standardised units.

Cost: see ``benchmarks/`` (``macs.count_macs``); the layers are (1, k) Conv2d in
channels-last layout, which oneDNN runs far faster on CPU than Conv1d.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.learn.pz import ZBins
from pipeline.physics.spectypes import CODES as SPECTYPE_CODES
from pipeline.physics.spectypes import spectype_of

#: Input pixels averaged together before the network (see module doc).
POOL = 4
#: The stem (stride 2) and each stage halve the length: 2560 -> 80 pixels of
#: 32 x 131 km/s. Stages: (out channels, with a residual block?).
STAGES = ((32, True), (48, True), (64, True), (96, False))
STEM_CHANNELS = 16
HIDDEN = 128
#: ISM properties with Gaussian heads (targets standardised by the training split).
PROPERTIES = ("log_sfr", "metallicity", "log_q", "log_pk", "ebv")


def _pool(a: np.ndarray) -> np.ndarray:
    """Mean of each group of POOL pixels, (B, npix) -> (B, npix / POOL); strided sums
    are ~10x faster than a mean over a reshaped axis of length 4."""
    out = a[:, 0::POOL].copy()
    for k in range(1, POOL):
        out += a[:, k::POOL]
    out *= np.float32(1.0 / POOL)
    return out


def _covered_share(good: np.ndarray) -> np.ndarray:
    """(B, npix / POOL) float32: the share of each group's POOL pixels that is covered
    (counted on int8 views of the mask: no float copy of the whole batch)."""
    g = good.view(np.int8)
    count = g[:, 0::POOL].copy()
    for k in range(1, POOL):
        count += g[:, k::POOL]
    return count.astype(np.float32) * np.float32(1.0 / POOL)


def _zeroed(a: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """float32 copy of ``a`` with 0 where ``bad`` (copy + masked fill: ~2x faster than np.where)."""
    out = np.array(a, dtype=np.float32)
    np.copyto(out, np.float32(0), where=bad)
    return out


def prepare_inputs(flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
    """(B, 2, npix / POOL) float32 network input from flux, ivar (B, npix).

    Pixels are averaged in groups of POOL first, over the covered pixels of each group
    only (a masked pixel inside the coverage, e.g. a NaN or a bad-pixel mask, leaves
    the mean of its neighbours instead of a dip the network would read as a feature),
    then channel 0 = asinh(flux / rms), rms over the covered pixels (robust to any
    flux unit or distance), and channel 1 = asinh(rms sqrt(mean ivar)) / 3, the S/N
    per pixel at the rms level; both are 0 where nothing is covered. NaN/inf flux or
    ivar counts as uncovered.
    """
    good = ivar > 0
    good &= np.isfinite(flux)
    good &= np.isfinite(ivar)
    bad = ~good
    f = _zeroed(flux, bad)
    n = np.maximum(np.count_nonzero(good, axis=1), 1)
    rms = np.sqrt(np.einsum("ij,ij->i", f, f) / n).astype(np.float32)
    rms[~(rms > 0)] = 1.0
    x = np.empty((f.shape[0], 2, f.shape[1] // POOL), dtype=np.float32)
    x[:, 0] = _pool(f)
    x[:, 1] = _pool(_zeroed(ivar, bad))
    covered = _covered_share(good)  # 1 where a whole group is covered: those means are unchanged
    partly = (covered > 0) & (covered < 1)
    for channel in (0, 1):
        np.divide(x[:, channel], covered, out=x[:, channel], where=partly)
    x[:, 0] /= rms[:, None]
    np.sqrt(x[:, 1], out=x[:, 1])
    x[:, 1] *= rms[:, None]
    np.arcsinh(x, out=x)
    x[:, 1] /= 3.0
    return x


def _conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Conv2d:
    """A (1, k) Conv2d on (B, C, 1, L). oneDNN runs channels-last 2-D convolutions
    2-15x faster than Conv1d on CPU, and without BatchNorm training runs ~10x
    faster here (BN's extra passes over the activations dominated): the network is
    shallow enough to train without it, with identity-initialised residuals."""
    return nn.Conv2d(c_in, c_out, (1, k), stride=(1, stride), padding=(0, k // 2))


class Down(nn.Sequential):
    """Conv (k, stride 2), ReLU: halves the length."""

    def __init__(self, c_in: int, c_out: int, k: int = 3):
        super().__init__(_conv(c_in, c_out, k, 2), nn.ReLU(inplace=True))


class Residual(nn.Module):
    """ReLU(x + conv_k(x)), the conv initialised to zero (an identity at the start,
    "SkipInit", De & Smith 2020) so that training starts stable without BatchNorm."""

    def __init__(self, c: int, k: int = 3):
        super().__init__()
        self.body = _conv(c, c, k)
        nn.init.zeros_(self.body.weight)
        nn.init.zeros_(self.body.bias)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(x + self.body(x))


class DefaultNet(nn.Module):
    """(B, 2, L) prepared input -> (p(z) logits (B, n_bins), ISM (B, n_props, 2)[, class
    logits (B, n_classes)]).

    L = n_pixels / POOL; the ISM output holds (mean, log variance) per property.
    ``stages``: (out channels, residual?) per halving stage; ``n_classes`` > 0 adds the
    SPECTYPE head (``spectypes.SPECTYPES`` order).
    """

    def __init__(self, n_pixels: int = 10240, n_bins: int | None = None, properties=PROPERTIES,
                 stages=STAGES, hidden: int = HIDDEN, n_classes: int = 0):
        super().__init__()
        stages = [tuple(s) for s in stages]
        self.config = {"n_pixels": n_pixels, "n_bins": n_bins or ZBins().n, "properties": list(properties),
                       "stages": [list(s) for s in stages], "hidden": hidden, "n_classes": n_classes}
        length = (n_pixels // POOL + 1) // 2
        layers: list[nn.Module] = [_conv(2, STEM_CHANNELS, 7, 2), nn.ReLU(inplace=True)]
        c = STEM_CHANNELS
        for c_out, residual in stages:
            layers.append(Down(c, c_out))
            if residual:
                layers.append(Residual(c_out))
            c, length = c_out, (length + 1) // 2
        self.features = nn.Sequential(*layers)
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(c * length, hidden), nn.ReLU(inplace=True))
        self.pz = nn.Linear(hidden, self.config["n_bins"])
        self.ism = nn.Linear(hidden, 2 * len(properties))
        self.spectype = nn.Linear(hidden, n_classes) if n_classes else None
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor):
        x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        h = self.trunk(self.features(x).contiguous())
        out = (self.pz(h), self.ism(h).view(x.shape[0], -1, 2))
        return out if self.spectype is None else (*out, self.spectype(h))


class DefaultTask:
    """How training and scoring talk to ``DefaultNet``: inputs, targets, loss, predictions.

    label_stats: property -> (mean, std) of the training split, to standardise the
    ISM targets (kept in the model card so that scoring uses the same numbers).
    classes: SPECTYPE names of the class head (None: no head, every row a galaxy). With
    a head, the p(z) loss skips sky fibres (they have no redshift to learn) and the ISM
    loss counts galaxies only.
    """

    name = "default"

    def __init__(self, label_stats: dict[str, tuple[float, float]], properties=PROPERTIES, pz_weight: float = 1.0,
                 temperature: float = 1.0, classes=None):
        self.classes = list(classes) if classes else None
        self.bins = ZBins()
        self.temperature = float(temperature)  # p(z) calibration (pipeline/learn/calibration.py)
        self.properties = [p for p in properties if p in label_stats]
        self.label_stats = {p: tuple(map(float, label_stats[p])) for p in self.properties}
        self.pz_weight = pz_weight

    def build(self, n_pixels: int) -> DefaultNet:
        return DefaultNet(n_pixels=n_pixels, n_bins=self.bins.n, properties=self.properties,
                          n_classes=len(self.classes or ()))

    def inputs(self, flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
        return prepare_inputs(flux, ivar)

    def targets(self, labels: dict) -> dict[str, np.ndarray]:
        """Soft p(u) targets (B, n_bins) and standardised ISM targets (B, n_props)."""
        z = np.clip(labels["z"].astype(np.float64), 0.0, np.expm1(self.bins.u_max))
        ism = np.stack([(labels[p] - m) / s for p, (m, s) in self.label_stats.items()], axis=1)
        out = {"pz": self.bins.soft_targets(z).astype(np.float32), "ism": ism.astype(np.float32)}
        if self.classes:
            kind = spectype_of(labels)
            out.update(spectype=kind, has_z=(kind != SPECTYPE_CODES["SKY"]).astype(np.float32),
                       galaxy=(kind == SPECTYPE_CODES["GALAXY"]).astype(np.float32))
        return out

    def loss(self, outputs, targets: dict[str, torch.Tensor]) -> torch.Tensor:
        """Cross-entropy of p(u) against the soft target + Gaussian NLL of the ISM heads
        (+ the class cross-entropy, with the masks of the class docstring)."""
        logits, ism = outputs[:2]
        pz = -(targets["pz"] * torch.log_softmax(logits.float(), dim=1)).sum(dim=1)
        mean, log_var = ism[..., 0].float(), ism[..., 1].float().clamp(-9.0, 9.0)
        nll = 0.5 * (log_var + (targets["ism"] - mean) ** 2 * torch.exp(-log_var)).mean(dim=1)
        if not self.classes:
            return self.pz_weight * pz.mean() + nll.mean()
        has_z, galaxy = targets["has_z"], targets["galaxy"]
        pz = (pz * has_z).sum() / has_z.sum().clamp(min=1.0)
        nll = (nll * galaxy).sum() / galaxy.sum().clamp(min=1.0)
        kind = nn.functional.cross_entropy(outputs[2].float(), targets["spectype"])
        return self.pz_weight * pz + nll + kind

    def predict(self, outputs) -> dict[str, np.ndarray]:
        """Per-spectrum predictions in physical units: z summaries, p(u), ISM mean/sigma."""
        from pipeline.learn.pz import peak_z, summarise

        logits, ism = outputs[:2]
        logits = logits.detach().float()
        prob = torch.softmax(logits / self.temperature, dim=1).cpu().numpy().astype(np.float64)
        s = summarise(prob, self.bins)
        # Z from the uncalibrated p(z): its peak mean refines within bins, which a
        # sharpened p(z) would quantise; the widths and probabilities are calibrated
        z = s.z if self.temperature == 1.0 else peak_z(
            torch.exp(logits - logits.max(dim=1, keepdim=True).values).cpu().numpy().astype(np.float64), self.bins)
        out = {"z": z, "zerr": s.zerr * (1 + z) / (1 + s.z), "z_lo": s.z_lo, "z_hi": s.z_hi, "p1": s.p1,
               "z2": s.z2, "p2": s.p2, "pz": prob.astype(np.float32)}
        ism = ism.detach().float().cpu().numpy()
        for i, (p, (m, sd)) in enumerate(self.label_stats.items()):
            out[p] = m + sd * ism[:, i, 0]
            out[f"{p}_err"] = sd * np.exp(0.5 * np.clip(ism[:, i, 1], -9, 9))
        if self.classes:
            p_class = torch.softmax(outputs[2].detach().float(), dim=1).cpu().numpy()
            out["p_class"] = p_class.astype(np.float32)
            out["spectype"] = np.argmax(p_class, axis=1)
        return out

    def card(self) -> dict:
        return {"task": self.name, "label_stats": self.label_stats, "properties": self.properties,
                "z_bins": {"step": self.bins.step, "u_max": self.bins.u_max}, "pz_temperature": self.temperature,
                **({"classes": self.classes} if self.classes else {})}
