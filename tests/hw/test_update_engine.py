"""The weight-update engine (`nmsat.hw.update.update_engine`) against its exact models: W' and V' in memory
bit for bit equal to `update_reference` (fp32 SGD with momentum, weight decay and the SR-STE term, with
special values and ties in G, W and V) and cycles == `update_engine_cycles`; random shapes, strides, 4 KiB
crossings, first step or not, every SR-STE pattern; on Verilator (cocotb) and in Amaranth's simulator."""

import numpy as np
import pytest

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.update.driver import update_descriptor, update_word
from nmsat.hw.update.pysim import run_engine_pysim
from nmsat.hw.update.update_engine import UpdateEngine
from nmsat.hw.update.validate import fp32_values, place_matrix, read_matrix, run_jobs
from nmsat.sim.fp import f32_bits
from nmsat.sim.tiling import cdiv
from nmsat.sim.update_engine import update_engine_cycles, update_reference

SMALL = load_config("configs/hw-small.toml")
P = core_params(SMALL)


def _case(rng, max_dim=40, image_bytes=1 << 15, start=None):
    """(input image, reference image, fields, shape) of one random update from memory `start`."""
    rows, cols = (int(x) for x in rng.integers(1, max_dim + 1, 2))
    bb = P.bus_bytes
    where, top = {}, int(rng.choice([0, 4096 - 5 * bb, int(rng.integers(0, 64)) * bb]))
    for name in ("g", "w", "v"):
        stride = cdiv(cols * 4, bb) * bb + int(rng.integers(0, 3)) * bb
        where[f"{name}_base"], where[f"{name}_stride"] = top, stride
        top = cdiv(top + rows * stride, bb) * bb + int(rng.integers(0, 40)) * bb
    mode, first = int(rng.integers(0, len(P.modes))), bool(rng.random() < 0.3)
    hp = [int(f32_bits(x)) for x in (rng.choice([2e-4, 0.5]), rng.choice([5e-4, 0.25]), 0.9, -rng.choice([0.05, 1.5]))]
    g, w, v = (fp32_values(rng, (rows, cols)) for _ in range(3))
    image = np.zeros(image_bytes, dtype=np.uint8) if start is None else start.copy()
    for name, x in (("g", g), ("w", w), ("v", v)):
        place_matrix(image, where[f"{name}_base"], where[f"{name}_stride"], x)
    w2, v2 = update_reference(g, w, v, first, None if mode == 0 else P.patterns[mode - 1], *hp)
    ref = image.copy()
    place_matrix(ref, where["w_base"], where["w_stride"], w2)
    place_matrix(ref, where["v_base"], where["v_stride"], v2)
    fields = update_descriptor(P, rows, cols, where, first, mode, *hp)
    return image, ref, fields, (rows, cols, top)


@pytest.mark.parametrize("seed", [0, 1])
def test_amaranth_simulator_update(seed):
    image, ref, fields, (rows, cols, _) = _case(np.random.default_rng(seed), max_dim=10, image_bytes=1 << 13)
    out, cycles = run_engine_pysim(UpdateEngine(P), P, image, update_word(P, fields))
    got = read_matrix(out, fields["w_base"], fields["w_stride"], (rows, cols))
    assert (out == ref).all(), f"{fields}: W' {got}"
    assert cycles == update_engine_cycles(P, rows, cols, where=fields)


def _run_verilator(n_cases, seed, build_root):
    rng = np.random.default_rng(seed)
    cases, ref = [], None
    for _ in range(n_cases):
        image, ref, fields, (rows, cols, top) = _case(rng, start=ref)
        cases.append((image, ref, fields, rows, cols, (0, top)))
    model = [update_engine_cycles(P, c[3], c[4], where=c[2]) for c in cases]
    runs = run_jobs(UpdateEngine(P), P, [(c[0], c[1], update_word(P, c[2]), c[5]) for c in cases], "verilator",
                    100 + 2 * max(model), build_root)
    for (_, ref, fields, *_, (lo, hi)), (got, cycles), expect in zip(cases, runs, model, strict=True):
        assert (got == ref[lo:hi]).all(), f"{fields}: memory differs at bytes {np.flatnonzero(got != ref[lo:hi])[:8]}"
        assert cycles == expect, f"{fields}: {cycles} cycles, model {expect}"
    return cases


@pytest.mark.slow  # the default suite runs both engines on Verilator in tests/hw/test_train_system.py
def test_verilator_random_update(hw_build_root):
    cases = _run_verilator(12, 5, hw_build_root)
    assert {c[2]["mode"] for c in cases} == set(P.modes) and {c[2]["first"] for c in cases} == {0, 1}


@pytest.mark.slow
def test_verilator_update_sweep(hw_build_root):
    _run_verilator(120, 50, hw_build_root)
