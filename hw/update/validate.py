"""Random training-engine jobs through the RTL (cocotb on Verilator or Icarus, the GEMM testbench
`nmsat.hw.tb.tb_gemm` on `EngineSystem`) against the exact models: memory images byte for byte and
cycles equal to `topn_engine_cycles` / `update_engine_cycles`."""

from pathlib import Path

import numpy as np

from nmsat.hw.driver import image_words
from nmsat.hw.flow.cocotb_sim import run_cocotb
from nmsat.hw.flow.verilog import to_verilog
from nmsat.hw.update.system import EngineSystem
from nmsat.sim.fp import f32_bits
from nmsat.sim.tiling import cdiv

DEFAULT_BUILD_ROOT = Path(".cache") / "nmsat-hw-sim"
MEMORY_WORDS = 1 << 13
PERIOD_NS = 10
TOP = "nmsat_engine_system"
TRAIN_TOP = "nmsat_train_system"
SPECIALS = np.array([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x00000001,
                     0x807FFFFF, 0x3F800000, 0xBF800000, 0x7F7FFFFF], dtype=np.uint32)


def fp32_values(rng, shape):
    """fp32 bit patterns: mostly normal values, some repeated magnitudes (ties), and special values."""
    bits = f32_bits(rng.standard_normal(shape) * np.exp2(rng.integers(-8, 8, shape)))
    pick = rng.random(shape)
    ties = f32_bits(rng.integers(-3, 4, shape).astype(np.float32))
    bits = np.where(pick < 0.25, ties, bits)
    return np.where(pick > 0.93, rng.choice(SPECIALS, shape), bits).astype(np.uint32)


def place_matrix(image, base, stride, bits):
    """Write the fp32 bit patterns `bits` ``[rows, cols]`` row-major at `base` with row `stride` (bytes)."""
    rows, cols = bits.shape
    raw = np.ascontiguousarray(bits.astype("<u4")).view(np.uint8).reshape(rows, cols * 4)
    image[base + np.arange(rows)[:, None] * stride + np.arange(cols * 4)] = raw


def read_matrix(image, base, stride, shape):
    rows, cols = shape
    raw = np.ascontiguousarray(image[base + np.arange(rows)[:, None] * stride + np.arange(cols * 4)])
    return raw.view("<u4").reshape(rows, cols)


def run_jobs(engine, p, jobs, simulator, max_cycles, build_root=DEFAULT_BUILD_ROOT, memory_words=MEMORY_WORDS,
             ports=None):
    """Run one descriptor per job on `engine`, jobs in order on one memory of `memory_words` words.

    A job is ``(image, expected, word, (lo, hi))``: the memory image (bytes, from address 0) it starts
    from, the image it should leave, its descriptor and the byte range to read back. Only the words that
    differ from the previous job's expected image are written (memory starts zeroed). Returns per job
    ``(bytes lo..hi after it, cycles)``. With `ports` (one per job) the design is
    `nmsat.hw.update.train_system.TrainSystem` (`engine` is ignored) and job i goes to port ``ports[i]``.
    """
    bb = p.bus_bytes
    programs, known = [], None
    for image, expected, word, (lo, hi) in jobs:
        if cdiv(len(image), bb) >= memory_words:
            raise ValueError(f"image of {len(image)} bytes exceeds the memory")
        ws = np.array(image_words(image, bb), dtype=object)
        old = np.zeros(len(ws), dtype=object) if known is None else known
        writes = {int(i): int(ws[i]) for i in np.flatnonzero(ws != old)}
        programs.append({"words": writes, "desc": word, "read": [lo // bb, cdiv(hi, bb) - lo // bb]})
        if ports is not None:
            programs[-1]["port"] = ports[len(programs) - 1]
        known = np.array(image_words(expected, bb), dtype=object)
    params = {"period_ns": PERIOD_NS, "max_cycles": max_cycles, "gemms": programs}
    if ports is None:
        text, top, bench = to_verilog(EngineSystem(engine, p, memory_words), TOP), TOP, "nmsat.hw.tb.tb_gemm"
    else:
        from nmsat.hw.update.train_system import TrainSystem

        top, bench = TRAIN_TOP, "nmsat.hw.update.tb_train"
        text = to_verilog(TrainSystem(p, memory_words), top)
    run = run_cocotb(text, top, bench, simulator, params, build_root)
    out = []
    for (*_, (lo, hi)), res in zip(jobs, run.outputs, strict=True):
        got = np.frombuffer(b"".join(int(w).to_bytes(bb, "little") for w in res["words"]), dtype=np.uint8)
        first = lo // bb * bb
        out.append((got[lo - first:hi - first].copy(), res["cycles"]))
    return out
