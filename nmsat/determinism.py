"""Pin torch's CPU kernels to AVX2 so training gives the same numbers on every x86-64 machine with AVX2.

torch picks its kernels by the CPU it runs on: ATen's vectorized kernels (AVX-512 / AVX2 / none),
oneDNN's convolutions (by instruction set) and MKL's BLAS (by CPU model). Each choice rounds
differently, and over a training run the differences reach the test accuracy. Measured on the project's
AMD EPYC (AVX-512) machine, one 3-epoch digits run: its final loss changed in the 5th significant digit
when ATen or oneDNN were limited to AVX2 and in the 9th under MKL's reproducible mode, so a machine
without AVX-512 (or another MKL path) trains differently: over 15 epochs, 5 of 9 digits_cnn test
accuracies (bdwp 2:8, srste 1:4, dense x seeds 0-2) differed by 0.003-0.008 between the unpinned AVX-512
kernels and the AVX2 ones, as the report's cells did between two machines. With all three pinned to AVX2
the runs were bit-identical however this machine's instruction sets were further restricted, and no
slower (medians of 3 five-epoch runs: 5.4 s pinned, 5.6 s unpinned; load 3-6 on 2 cores). A second machine was not
available to test on. The variables are read when torch loads, so `pin_cpu_kernels` must run before the
first ``import torch``; a value the user set is kept.
"""

import os
import sys

PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}


def pin_cpu_kernels():
    """Set `PINNED` in the environment (keeping user-set values); False if torch was already loaded."""
    for key, value in PINNED.items():
        os.environ.setdefault(key, value)
    return "torch" not in sys.modules


def pinned_text():
    """How the kernels are pinned in this process, for the report's settings line."""
    return ", ".join(f"{key}={os.environ.get(key, 'unset')}" for key in PINNED)
