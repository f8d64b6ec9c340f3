"""The top-N pre-generation engine (`nmsat.hw.update.topn_engine`) against its exact models: the weight-row
image byte for byte (`nmsat.sim.topn_engine.write_topn`, i.e. `sim.tile.weight_rows` + bf16 + the driver's
packing) and cycles == `topn_engine_cycles`, FF and BP, every mode, ragged edges, ties, NaN/inf/-0/subnormal
weights, padded strides and 4 KiB crossings; on Verilator (cocotb) and in Amaranth's simulator."""

import dataclasses

import numpy as np
import pytest

from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.hw.update.driver import topn_word
from nmsat.hw.update.pysim import run_engine_pysim
from nmsat.hw.update.topn_engine import TopNEngine
from nmsat.hw.update.validate import fp32_values, place_matrix, run_jobs
from nmsat.nm import prune
from nmsat.sim.fp import bf16_bits, f32_value
from nmsat.sim.tiling import cdiv
from nmsat.sim.topn_engine import topn_engine_cycles, topn_job, topn_rows, train_params, write_topn

SMALL = load_config("configs/hw-small.toml")
P = core_params(SMALL)
WIDE = dataclasses.replace(P, bus_bytes=32)  # the engines need no GEMM-core constraint on the bus


def _case(rng, max_dim=40, image_bytes=1 << 15, start=None, p=P):
    """(input image, reference image, job) of one random pass from memory `start` (default zeros)."""
    n_out, k_in = (int(x) for x in rng.integers(1, max_dim + 1, 2))
    mode, transpose = int(rng.integers(0, len(p.modes))), bool(rng.integers(0, 2))
    bb = p.bus_bytes
    stride = cdiv(k_in * 4, bb) * bb + int(rng.integers(0, 3)) * bb
    src = int(rng.choice([0, 4096 - 3 * bb, int(rng.integers(0, 64)) * bb]))
    dst = cdiv(src + n_out * stride, bb) * bb + int(rng.integers(0, 4800 // bb)) * bb
    job = topn_job(p, (n_out, k_in), mode, transpose, src, stride, dst)
    job = topn_job(p, (n_out, k_in), mode, transpose, src, stride, dst, job.dst_stride + int(rng.integers(0, 2)) * bb)
    bits = fp32_values(rng, (n_out, k_in))
    image = np.zeros(image_bytes, dtype=np.uint8) if start is None else start.copy()
    place_matrix(image, src, stride, bits)
    ref = image.copy()
    write_topn(ref, p, job, f32_value(bits))
    return image, ref, job


def _decoded(rows, b_shape, mode):
    """Dense bf16 bits ``[N, K]`` rebuilt from a weight-row image (values, then in-group indices)."""
    tp = train_params(P)
    e, c, pm = P.window(mode), P.cols, P.mults
    pat = P.patterns[mode - 1]
    row_bits = np.unpackbits(rows.reshape(-1, tp.w_beats(mode) * P.bus_bytes), axis=1, bitorder="little")
    weights = 1 << np.arange(16)
    vals = (row_bits[:, :c * pm * 16].reshape(-1, c, pm, 16) * weights).sum(-1)
    ib = P.idx_width
    idx = (row_bits[:, c * pm * 16:c * pm * (16 + ib)].reshape(-1, c, pm, ib) * weights[:ib]).sum(-1)
    n, k = b_shape
    windows, blocks = cdiv(k, e), cdiv(n, c)
    dense = np.zeros((blocks * c, windows * e), dtype=np.int64)
    for r in range(blocks * windows):
        nb, s = divmod(r, windows)
        for col in range(c):
            for j in range(pm):
                pos = s * e + (j // pat.n) * pat.m + idx[r, col, j]
                dense[nb * c + col, pos] = vals[r, col, j]
    return dense[:n, :k]


def test_reference_rows_follow_nm():
    """Decoded, the reference is `nmsat.nm.prune` of W (FF, along K_in) or W^T (BP, along N_out) in bf16."""
    rng = np.random.default_rng(1)
    bits = fp32_values(rng, (9, 21))
    bits = np.where(np.isnan(f32_value(bits)), np.uint32(0x40000000), bits)  # NaN: see the module docstring
    w = f32_value(bits)
    for mode in (1, 3):
        for transpose in (False, True):
            b = w.T if transpose else w
            got = _decoded(topn_rows(P, w, mode, transpose), b.shape, mode)
            expect = bf16_bits(prune(b, P.patterns[mode - 1], axis=1)).astype(np.int64)
            assert (got == expect).all()


@pytest.mark.parametrize("p,seed", [(P, 0), (P, 1), (WIDE, 2), (WIDE, 3)])
def test_amaranth_simulator_topn(p, seed):
    """hw-small, and a 256-bit bus where windows and blocks start inside a beat."""
    image, ref, job = _case(np.random.default_rng(seed), max_dim=14, image_bytes=1 << 14, p=p)
    out, cycles = run_engine_pysim(TopNEngine(p), p, image, topn_word(p, job))
    assert (out == ref).all(), f"{job}: images differ at bytes {np.flatnonzero(out != ref)[:8]}"
    assert cycles == topn_engine_cycles(p, job)


def _run_verilator(n_cases, seed, build_root):
    """Random passes on one memory, each starting from the previous one's expected output."""
    rng = np.random.default_rng(seed)
    cases, ref = [], None
    for _ in range(n_cases):
        image, ref, job = _case(rng, start=ref)
        cases.append((image, ref, job, (job.src_base, job.dst_base + job.n_blocks(P) * job.dst_stride)))
    model = [topn_engine_cycles(P, c[2]) for c in cases]
    runs = run_jobs(TopNEngine(P), P, [(c[0], c[1], topn_word(P, c[2]), c[3]) for c in cases], "verilator",
                    100 + 2 * max(model), build_root)
    for (_, ref, job, (lo, hi)), (got, cycles), expect in zip(cases, runs, model, strict=True):
        assert (got == ref[lo:hi]).all(), f"{job}: images differ at bytes {lo + np.flatnonzero(got != ref[lo:hi])[:8]}"
        assert cycles == expect, f"{job}: {cycles} cycles, model {expect}"
    return cases


@pytest.mark.slow  # the default suite runs both engines on Verilator in tests/hw/test_train_system.py
def test_verilator_random_topn(hw_build_root):
    cases = _run_verilator(16, 7, hw_build_root)
    assert {(c[2].mode, c[2].transpose) for c in cases} >= {(3, False), (3, True)}


@pytest.mark.slow
def test_verilator_topn_sweep(hw_build_root):
    _run_verilator(150, 70, hw_build_root)
