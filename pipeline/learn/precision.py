"""Whether the networks run in bfloat16 on a device.

bf16 autocast roughly halves CPU time where oneDNN has native bf16 kernels (AVX-512
cores, AMX); on CPUs without AVX-512 it is emulated and many times slower than fp32.
Measured with the shipped ``survey`` network, 1,024 spectra, one thread: 114 ms bf16 on
an AVX-512 EPYC; 9.4 s bf16 vs 0.97 s fp32 on an AVX2-only EPYC (Zen 3). So bf16 is
used only where the hardware has it; elsewhere the same models run in fp32 (bf16
changes outputs by ~3e-3 relative, well inside the networks' errors).
"""

from __future__ import annotations

import functools
import os

import torch

#: Set to 0 or 1 to force the choice (benchmarks; a site that knows better).
OVERRIDE = "SPECTROFLOW_BF16"


def use_bf16(device) -> bool:
    """True if ``device`` (a torch.device or its name) runs bf16 autocast natively."""
    forced = os.environ.get(OVERRIDE)
    if forced in ("0", "1"):
        return forced == "1"
    return _native_bf16(torch.device(device).type)


@functools.lru_cache(maxsize=None)
def _native_bf16(device_type: str) -> bool:
    if device_type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device_type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # a torch build without oneDNN
            return False
    return False
