"""A fitted per-component FPGA area model: an *estimate* for configs too large to synthesise here.

The core's area is ``PE x R*C + non-PE logic + top-N unit`` (as `nmsat.hw.flow.area`); each component's
LUT, FF, DSP and BRAM counts are fitted by least squares, linear in a few features of the config that
count what the component is built from:

- PE: ``P`` (multipliers: DSP blocks), ``P*D`` (multiplier operand bits), ``P*D*(r-1)`` (extra activation
  bits the N:M muxes choose from, r = the largest m/n supported, 1 when dense only), ``P*idx`` (stored index
  bits);
- non-PE: ``skew`` (bits in the triangular skew registers: ``E_max*D*R(R-1)/2 + A*C(C-1)/2``), ``edge``
  (bits of one weight, activation and output scratchpad row), the AXI4 width, ``spad_blocks`` (the RAMB36
  units the scratchpads deeper than 32 rows per bank would take as 512 x 36 RAMB18 blocks: block memories
  come in whole blocks, and Yosys put the shallower ones in LUT-RAM in every training synthesis);
- top-N unit: ``lanes*D`` and ``lanes`` (zero without patterns: a dense-only design has none).

The training data are real Yosys syntheses of small configs (``benchmarks/bench_area_fit.py`` writes
``benchmarks/results/area_fit.json``: each config and its measured components); the features and the fit are
recomputed from them on load, and the error is measured on held-out configs of the same file that the fit
never saw.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from nmsat.config import from_dict
from nmsat.core_params import core_params
from nmsat.errors import NmsatError

CATS = ("lut", "ff", "dsp", "bram")
LUTRAM_ROWS = 32
FEATURES = {"pe": ("one", "p", "pd", "pd_mux", "p_idx"),
            "non_pe": ("one", "skew", "edge", "bus", "spad_blocks"),
            "topn": ("one", "lanes_d", "lanes")}
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "area_fit.json"


def config_features(cfg):
    """{feature: value} of `cfg` for every component's features (plain numbers, JSON-able)."""
    a = cfg.array
    p = core_params(cfg)
    ratio = max([1.0] + [q.m / q.n for q in p.patterns])
    mems = ((p.w_depth, p.w_row_bits), (p.a_depth, p.a_row_bits), (p.o_depth, p.o_row_bits))
    # 2 banks of 512 x 36 RAMB18 = RAMB36 units; memories of <= 32 rows per bank went to LUT-RAM (RAM32M) in
    # every training synthesis, deeper ones to block RAM
    blocks = sum(-(-bits // 36) * -(-d // 512) for d, bits in mems if d > LUTRAM_ROWS)
    pd = a.mults_per_pe * a.data_width
    return {"one": 1, "p": a.mults_per_pe, "pd": pd, "pd_mux": pd * (ratio - 1), "p_idx": a.mults_per_pe * p.idx_width,
            "skew": p.e_max * a.data_width * a.rows * (a.rows - 1) // 2 + a.acc_width * a.cols * (a.cols - 1) // 2,
            "edge": p.w_row_bits + p.a_row_bits + p.o_row_bits, "bus": p.bus_bits, "spad_blocks": blocks,
            "lanes_d": cfg.topn.lanes * a.data_width, "lanes": cfg.topn.lanes,
            "pes": a.rows * a.cols, "has_topn": int(bool(a.patterns))}


def _matrix(feats, part):
    return np.array([[f[name] for name in FEATURES[part]] for f in feats], dtype=float)


def fit(records):
    """{part: {category: coefficients}} fitted by least squares on `records` (each: features, area)."""
    model = {}
    for part in FEATURES:
        rows = [r for r in records if part != "topn" or r["features"]["has_topn"]]
        if len(rows) < len(FEATURES[part]):
            raise NmsatError(f"area fit: {len(rows)} training configs for the {part} model, need at least "
                             f"{len(FEATURES[part])}")
        x = _matrix([r["features"] for r in rows], part)
        model[part] = {c: np.linalg.lstsq(x, np.array([r["area"][part][c] for r in rows], dtype=float),
                                          rcond=None)[0].tolist() for c in CATS}
    return model


def predict_parts(model, feats):
    """{part: {category: estimate}} of one config's features (each clamped at 0; no top-N without patterns)."""
    out = {}
    for part in FEATURES:
        x = _matrix([feats], part)[0]
        out[part] = {c: max(0.0, float(x @ np.array(model[part][c]))) for c in CATS}
    if not feats["has_topn"]:
        out["topn"] = dict.fromkeys(CATS, 0.0)
    return out


def predict(model, feats):
    """{category: estimated total} = PE x R*C + non-PE + top-N unit."""
    p = predict_parts(model, feats)
    return {c: feats["pes"] * p["pe"][c] + p["non_pe"][c] + p["topn"][c] for c in CATS}


def heldout_error(model, records):
    """Per category, the error of the estimated total on `records`: relative (median and max %, over configs
    whose measured count is > 0) and absolute (median and max, all configs)."""
    if not records:
        raise NmsatError("area fit: no held-out configs to measure the error on")
    out = {}
    for c in CATS:
        est = np.array([predict(model, r["features"])[c] for r in records])
        real = np.array([r["area"]["total"][c] for r in records], dtype=float)
        diff = np.abs(est - real)
        rel = 100 * diff[real > 0] / real[real > 0]
        out[c] = {"n": len(records), "median_pct": float(np.median(rel)) if rel.size else float("nan"),
                  "max_pct": float(rel.max()) if rel.size else float("nan"),
                  "median_abs": float(np.median(diff)), "max_abs": float(diff.max())}
    return out


@lru_cache(maxsize=4)
def load_fit(path=None):
    """(model, held-out error) from a ``bench_area_fit.py`` result file (default `DEFAULT_DATA`); `NmsatError`
    if it is missing."""
    path = Path(path or DEFAULT_DATA)
    try:
        data = json.loads(path.read_text())
        records = data["records"]
    except (OSError, ValueError, KeyError) as e:
        raise NmsatError(f"area estimate: cannot read the fit's data {str(path)!r} ({e.__class__.__name__}); "
                         "run benchmarks/bench_area_fit.py") from None
    records = [{**r, "features": config_features(from_dict(r["config"]))} for r in records]  # today's features
    model = fit([r for r in records if r["split"] == "train"])
    return model, heldout_error(model, [r for r in records if r["split"] == "heldout"])
