"""Benchmark: the training and held-out data of the fitted per-component area model (`nmsat.explore.area_model`).

Synthesises (Yosys ``synth_xilinx``, as `nmsat area`; cached by design hash) the PE, the non-PE logic and the
top-N unit of randomly drawn small configs (fixed seed): array 4..8 x 4..8, P in 2/4/8, data width 8/16,
supported patterns, AXI4 width, scratchpad depth and top-N lanes varied. The first ``--train`` valid draws are
the training set, the next ``--heldout`` are held out, plus (``--big 16``) one 16 x 16 config (the largest
that builds here) held out as an extrapolation check. Then fits the model on the training set and prints its
error on the held-out configs (the error `nmsat explore` quotes for ``area = "estimate"``).
Writes ``benchmarks/results/area_fit.json`` atomically (each config, its features then and its measured
components; `nmsat.explore.area_model.load_fit` recomputes the features from the configs).
"""

import argparse
import json
import os
import random
import time
from pathlib import Path

from nmsat import atomic
from nmsat.config import load_config
from nmsat.core_params import core_params
from nmsat.errors import NmsatError
from nmsat.explore.area_model import config_features, fit, heldout_error
from nmsat.hw.flow.area import variant_area

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "area_fit.json"
TARGET = "xilinx"
CATS = ("lut", "ff", "dsp", "bram")
PATTERN_SETS = ([], ["2:8"], ["2:4"], ["2:4", "1:4", "2:8"])


def sized(cfg, depth):
    """`cfg` with every scratchpad `depth` rows per bank (two banks)."""
    big = cfg.replace(memory={"weight_spad_kib": 4096.0, "act_spad_kib": 4096.0, "out_spad_kib": 4096.0})
    p = core_params(big)
    kib = {k: 2 * depth * bits / 8192 for k, bits in
           (("weight_spad_kib", p.w_row_bits), ("act_spad_kib", p.a_row_bits), ("out_spad_kib", p.o_row_bits))}
    return cfg.replace(memory=kib)


def draw(rng, base):
    """One random small config, or None when the RTL cannot build it."""
    rows, cols = rng.choice([4, 8]), rng.choice([4, 8])
    array = {"rows": rows, "cols": cols, "mults_per_pe": rng.choice([2, 4, 8]), "data_width": rng.choice([8, 16]),
             "patterns": rng.choice(PATTERN_SETS), "max_row_groups": 4}
    try:
        cfg = base.replace(array=array, memory={"bus_bytes": rng.choice([8, 16, 32])},
                           topn={"lanes": rng.choice([4, 8, 16])})
        return sized(cfg, rng.choice([16, 64, 256]))
    except NmsatError:
        return None


def record(cfg, split):
    """Measured components of `cfg` (LUT/FF/DSP/BRAM of pe, non_pe, topn, total) and its features."""
    t0 = time.monotonic()
    area = variant_area(cfg, TARGET)
    parts = {part: {c: area[part][c] for c in CATS} for part in ("pe", "non_pe", "topn", "total")}
    return {"split": split, "config": cfg.to_dict(), "features": config_features(cfg), "area": parts,
            "seconds": round(time.monotonic() - t0, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=12)
    ap.add_argument("--heldout", type=int, default=4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--big", type=int, default=16,
                    help="also hold out a BIG x BIG config (extrapolation; 0: none; 16 is the build limit)")
    args = ap.parse_args()
    base = load_config("hw-small")
    rng = random.Random(args.seed)
    configs, seen = [], set()
    while len(configs) < args.train + args.heldout:
        cfg = draw(rng, base)
        if cfg is not None and json.dumps(cfg.to_dict()) not in seen:
            seen.add(json.dumps(cfg.to_dict()))
            configs.append(cfg)
    extra = []
    if args.big:
        extra = [sized(base.replace(array={"rows": args.big, "cols": args.big, "data_width": 16},
                                    memory={"bus_bytes": 64}, topn={"lanes": 16}), 64)]
    load_before, start = os.getloadavg(), time.monotonic()
    records = []
    for i, cfg in enumerate([*configs, *extra]):
        split = "train" if i < args.train else "heldout"
        records.append(record(cfg, split))
        a = cfg.array
        print(f"{i + 1}/{len(configs) + len(extra)} {split:7} {a.rows}x{a.cols} P={a.mults_per_pe} D={a.data_width} "
              f"{'+'.join(map(str, a.patterns)) or 'dense'} bus={cfg.memory.bus_bytes} lanes={cfg.topn.lanes}: "
              f"total {records[-1]['area']['total']} ({records[-1]['seconds']} s)", flush=True)
    model = fit([r for r in records if r["split"] == "train"])
    err = heldout_error(model, [r for r in records if r["split"] == "heldout"])
    for cat, e in err.items():
        print(f"held-out error {cat}: median {e['median_pct']:.1f}%, max {e['max_pct']:.1f}% over {e['n']} configs")
    result = {"target": TARGET, "seed": args.seed, "big": args.big, "records": records,
              "bench": {"wall_s": round(time.monotonic() - start, 1), "cpus": os.cpu_count(),
                        "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()]}}
    atomic.write_text(OUT, json.dumps(result, indent=1) + "\n")
    print(f"load average before {result['bench']['loadavg_before']}, after {result['bench']['loadavg_after']}; "
          f"wrote {OUT}")


if __name__ == "__main__":
    main()
