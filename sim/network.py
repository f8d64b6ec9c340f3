"""Network model: one steady-state training step of a trace on the accelerator.

The step is simulated as one period: the backward pass of step s (for each layer, last first: its BP
and WG GEMMs, then its weight update), followed by the forward pass of step s+1 (FF GEMMs in trace
order). Units: the array runs GEMMs in that order; the update unit runs updates in order; the top-N
unit runs FF compressions in update order, then BP compressions in update order; what each mode asks of it
(passes, a transposable block pass, Bi-Mask's search and permuted BP operand) is `nmsat.sim.mask_cost`.

By default the step is what the generated hardware does: its GEMMs on the RTL's GEMM engine, then per
layer the RTL's update engine and top-N engine passes (`nmsat.sim.train_engines`, their exact cycles), all in
series, because every command shares the one AXI4 port and runs alone: pre-generation hides nothing there
(``pregen`` is ignored). Modes whose mask passes the top-N engine does not build (transposable, Bi-Mask) are
charged the projected mask unit's cost there, flagged ``projected_masks``. The projected model
(``[projection] enabled``) charges the analytic update and top-N units below instead (with ``update_topn``),
where ``pregen`` matters.

Without pre-generation (``pregen=False``) the array waits for each layer's update and its top-N
passes (the critical path). With pre-generation they run on their own units while the array goes on;
only what cannot be hidden is charged: FF of layer l waits for l's compressed FF weights (or, dense,
its updated weights), the next BP of l must find its BP weights ready, and a step is never shorter than
the DRAM time of all its traffic (one DRAM channel shared by every unit).

With the projected vector unit on (``cfg.vector.enabled``; off by default, the RTL has none) the step's
non-GEMM work (the trace's ``nongemm`` entries) is added after that: vector time between GEMMs, no
overlap with the array (`nmsat.sim.vector`).
"""

from dataclasses import dataclass, field

from nmsat.sim.budget import check_work
from nmsat.sim.energy import COMPONENTS, static_pj
from nmsat.sim.layer import best_gemm, check_dataflow, dram_bytes_per_cycle
from nmsat.sim.mask_cost import mask_jobs, permute_bytes
from nmsat.sim.modes import gemm_patterns, trace_pattern
from nmsat.sim.train_engines import RTL_MASK_MODES, mask_jobs_rtl, update_cost_rtl
from nmsat.sim.vector import speedup_cap, vector_cost
from nmsat.sim.weight_update import layer_weights, update_cost


@dataclass
class NetworkResult:
    """A simulated training step: totals, energy per component, per-GEMM rows and timeline events."""

    model: str
    mode: str
    dataflow: str
    pregen: bool
    pattern: str | None
    clock_mhz: float
    total_cycles: int
    energy_pj: dict
    layers: list
    events: list = field(default_factory=list)
    overheads: dict = field(default_factory=dict)

    @property
    def seconds(self):
        """Wall time of the step at the array clock."""
        return self.total_cycles / (self.clock_mhz * 1e6)

    @property
    def energy_total_pj(self):
        """Energy of the step, all components."""
        return sum(self.energy_pj.values())

    def to_rows(self):
        """Per-GEMM rows (flat dicts) for CSV/JSON output."""
        return [dict(row) for row in self.layers]

    def summary(self):
        """One flat dict describing the whole step."""
        return {"model": self.model, "mode": self.mode, "dataflow": self.dataflow, "pregen": self.pregen,
                "pattern": self.pattern, "cycles": self.total_cycles, "seconds": self.seconds,
                "energy_pj": self.energy_total_pj, **{f"energy_{k}_pj": v for k, v in self.energy_pj.items()},
                **self.overheads}


def _gemm_row(g, pat, r, cfg):
    a = cfg.array
    peak = r.cycles * a.rows * a.cols * a.mults_per_pe
    return {"layer": g.layer, "pass": g.pass_, "m": g.m, "n": g.n, "k": g.k, "count": g.count,
            "sparse": None if pat is None else str(pat),
            "executed_as": "dense" if r.pattern is None else str(r.pattern), "dataflow": r.tiling.dataflow,
            "tiling": str(r.tiling), "tiles": r.tiles, "compute_cycles": r.compute_cycles,
            "stall_cycles": r.stall_cycles, "fill_drain_cycles": r.fill_drain_cycles, "cycles": r.cycles,
            "utilization": r.mults / peak, "macs": r.macs, "mults": r.mults, "dram_bytes": r.dram_bytes,
            "energy_pj": sum(r.energy_pj.values())}


class _Step:
    """Builds the period's timeline: unit clocks, events and charged waits."""

    def __init__(self, cfg, pregen):
        self.cfg, self.pregen = cfg, pregen
        self.t = 0
        self.free = {"update": 0, "topn": 0}
        self.events = []
        self.waits = {"update": 0, "topn": 0}

    def add(self, track, name, start, dur, **args):
        self.events.append({"track": track, "name": name, "start": start, "dur": dur, "args": args})

    def gemm(self, row):
        row["start"] = self.t
        self.add("array", f"{row['layer']} {row['pass']}", self.t, row["cycles"],
                 **{k: row[k] for k in ("m", "n", "k", "sparse", "tiling", "stall_cycles", "utilization")})
        dram = round(row["dram_bytes"] / dram_bytes_per_cycle(self.cfg))
        self.add("dram", f"{row['layer']} {row['pass']}", self.t, dram, bytes=row["dram_bytes"])
        self.t += row["cycles"]

    def unit(self, track, name, ready, cost):
        """Run a job on the update or top-N unit once `ready`; without pregen the array waits for it."""
        start = max(ready, self.free[track], self.t if not self.pregen else 0)
        end = start + cost["cycles"]
        self.free[track] = end
        self.add(track, name, start, cost["cycles"], dram_bytes=cost["dram_bytes"])
        if not self.pregen:
            self.waits[track] += end - self.t
            self.t = end
        return end

    def wait_for(self, ready, track, name):
        """The array waits until `ready` (a job on `track`); charge and draw the wait."""
        if ready > self.t:
            self.add("array", f"wait {name}", self.t, ready - self.t)
            self.waits[track] += ready - self.t
            self.t = ready


def simulate(trace, cfg, mode="bdwp", dataflow="best", pregen=True, pattern=None, progress=None):
    """Simulate one training step of `trace` on `cfg` in hardware `mode` (`nmsat.sim.modes.MODES`)
    with dataflow policy 'ws', 'os' or 'best' (offline search per GEMM) and optional pre-generation.
    `pattern` overrides the trace's N:M pattern; `progress` (optional) is called once per GEMM."""
    check_dataflow(cfg, dataflow)
    pats = gemm_patterns(trace, cfg, mode, pattern)
    check_work(trace.gemms, pats, cfg, dataflow)
    pat = None if mode == "dense" else trace_pattern(trace, pattern)
    rows, energy = [], dict.fromkeys(COMPONENTS, 0.0)
    for g, p in zip(trace.gemms, pats, strict=True):
        r = best_gemm(g, cfg, p, dataflow)
        rows.append(_gemm_row(g, p, r, cfg))
        if progress:
            progress()
        for c, v in r.energy_pj.items():
            energy[c] += v
    sparse = {(row["layer"], row["pass"]) for row in rows if row["sparse"]}
    order = list(dict.fromkeys(g.layer for g in trace.gemms))
    rtl = not cfg.projection.enabled  # the generated hardware: its update and top-N engines, in series
    projected_units = cfg.projection.enabled and cfg.projection.update_topn
    weights = layer_weights(trace) if rtl or projected_units else {}
    step = _Step(cfg, pregen and not rtl)
    ready_ff, ready_bp, bp_start, dram = {}, {}, {}, sum(r["dram_bytes"] for r in rows)
    bp_jobs = []
    for layer in reversed(order):
        for row in rows:
            if row["layer"] == layer and row["pass"] in ("BP", "WG"):
                if row["pass"] == "BP":
                    bp_start.setdefault(layer, step.t)
                step.gemm(row)
        if layer not in weights:
            continue
        n_out, k_in, blocks = weights[layer]
        passes = [ps for ps in ("FF", "BP") if (layer, ps) in sparse]
        if rtl:
            cost = update_cost_rtl(n_out, k_in, blocks, cfg)
            jobs = (mask_jobs_rtl if mode in RTL_MASK_MODES else mask_jobs)(mode, n_out, k_in, blocks, pat, cfg,
                                                                           passes)
        else:
            cost = update_cost(n_out * k_in * blocks, cfg)
            jobs = mask_jobs(mode, n_out, k_in, blocks, pat, cfg, passes)
        done = step.unit("update", f"{layer} update", step.t, cost)
        ready_ff[layer] = ready_bp[layer] = done
        for ps, c in jobs:
            if ps == "FF" or ps == "FF+BP" or not pregen:
                end = step.unit("topn", f"{layer} top-N {ps}", done, c)
                for key, ready in (("FF", ready_ff), ("BP", ready_bp)):
                    if key in ps.split("+"):
                        ready[layer] = end
            else:
                bp_jobs.append((layer, done, c, ps))
        for _, c in jobs:
            dram += c["dram_bytes"]
            for comp, v in c["energy_pj"].items():
                energy[comp] += v
        dram += cost["dram_bytes"]
        for comp, v in cost["energy_pj"].items():
            energy[comp] += v
    if mode == "bimask" and projected_units:  # dY of each sparse BP GEMM is gathered through the permutation
        gathered = sum(permute_bytes(g, cfg) for g, p in zip(trace.gemms, pats, strict=True)
                       if p is not None and g.pass_ == "BP")
        dram += gathered
        energy["dram"] += gathered * cfg.energy.dram_pj_per_byte
    for layer, done, c, ps in bp_jobs:
        end = step.unit("topn", f"{layer} top-N {ps}", done, c)
        if ps == "BP":
            ready_bp[layer] = end
    for row in rows:
        if row["pass"] == "FF":
            track = "topn" if (row["layer"], "FF") in sparse else "update"
            step.wait_for(ready_ff.get(row["layer"], 0), track, f"{row['layer']} weights")
            step.gemm(row)
    bp_bound = max((ready_bp[layer] - bp_start[layer] for layer in ready_bp if layer in bp_start), default=0)
    dram_bound = round(dram / dram_bytes_per_cycle(cfg)) if cfg.projection.enabled else 0
    total = max(step.t, bp_bound, dram_bound)
    vector = vector_cost(trace, cfg) if cfg.vector.enabled else None
    if vector is not None:  # projected unit, between GEMMs (no overlap): see nmsat.sim.vector
        gemm_total, total, dram = total, total + vector["cycles"], dram + vector["dram_bytes"]
        for comp, v in vector["energy_pj"].items():
            energy[comp] = energy.get(comp, 0.0) + v
    seconds = total / (cfg.array.clock_mhz * 1e6)
    energy["static"] = static_pj(cfg, seconds)
    busy = {track: sum(e["dur"] for e in step.events if e["track"] == track) for track in ("update", "topn")}
    overheads = {"array_cycles": step.t, "dram_bound_cycles": dram_bound, "bp_weights_bound_cycles": bp_bound,
                 "update_cycles": busy["update"], "topn_cycles": busy["topn"],
                 "update_exposed_cycles": step.waits["update"], "topn_exposed_cycles": step.waits["topn"],
                 "dram_bytes": dram}
    overheads["projected"] = cfg.projection.enabled
    # modes whose mask passes the RTL's top-N engine does not build are charged the projected mask unit's cost
    overheads["projected_masks"] = rtl and mode not in RTL_MASK_MODES and mode != "dense"
    if vector is not None:
        overheads.update(vector_cycles=vector["cycles"], vector_ops=vector["ops"],
                         nongemm_share=vector["cycles"] / total if total else 0.0,
                         gemm_speedup_cap=speedup_cap(gemm_total, vector["cycles"]))
    return NetworkResult(model=trace.model, mode=mode, dataflow=dataflow, pregen=pregen,
                         pattern=None if pat is None else str(pat), clock_mhz=cfg.array.clock_mhz,
                         total_cycles=int(total), energy_pj=energy, layers=rows, events=step.events,
                         overheads=overheads)
