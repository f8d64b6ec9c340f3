"""One point of a sweep: a config built from the swept values, a workload, a method and a pattern, simulated.

Per point: cycles and energy of one training step on the generated hardware (`nmsat.sim.network`), the time
of that step at the config's clock (``clock_mhz``; the sweep puts the time at the measured Fmax in its place
when the spec asks for place-and-route, `nmsat.explore.fmax`), the array's multipliers R x C x P (an exact
count, a cost proxy where area is not synthesised), and whether the RTL can be built at all
(`nmsat.core_params`). A point whose config is invalid or whose pattern the array cannot run is a row with
``status = invalid`` and the reason.
"""

import copy
import hashlib
import json

from nmsat.config import from_dict
from nmsat.core_params import core_params
from nmsat.errors import NmsatError
from nmsat.sim import network

RESULT_COLUMNS = ("status", "reason", "cycles", "clock_mhz", "time_s", "time_basis", "fmax_mhz", "energy_pj",
                  "multipliers", "gemm_count")
TIME_BASIS = "config clock (fmax not measured)"


def point_id(hw, workload_label, method, pattern):
    """A stable id of a point: what `--resume` matches rows by."""
    text = json.dumps([sorted((k, list(v) if isinstance(v, tuple) else v) for k, v in hw.items()),
                       workload_label, method, pattern])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_config(base, hw):
    """The config `base` (a plain dict, `AcceleratorConfig.to_dict`) with the swept values `hw`; validated."""
    d = copy.deepcopy(base)
    for key, value in hw.items():
        section, name = key.split(".", 1)
        d[section][name] = list(value) if isinstance(value, tuple) else value
    return from_dict(d)


def hardware_label(hw):
    """A short text of the swept values, e.g. ``rows=16 cols=32 patterns=2:4+2:8``."""
    def text(v):
        return "+".join(map(str, v)) if isinstance(v, tuple) else f"{v:g}" if isinstance(v, float) else str(v)

    return " ".join(f"{k.split('.', 1)[1]}={text(v)}" for k, v in hw.items()) or "base"


def simulate_point(base, hw, trace, method, pattern):
    """The result columns of one point (see `RESULT_COLUMNS`); invalid points carry their reason."""
    row = dict.fromkeys(RESULT_COLUMNS)
    try:
        cfg = build_config(base, hw)
        if not cfg.projection.enabled:
            core_params(cfg)  # the RTL generator refuses what it cannot build
        r = network.simulate(trace, cfg, mode=method, dataflow="best", pregen=True, pattern=pattern)
    except NmsatError as e:
        row.update(status="invalid", reason=str(e))
        return row
    row.update(status="ok", reason="", cycles=r.total_cycles, clock_mhz=cfg.array.clock_mhz, time_s=r.seconds,
               time_basis=TIME_BASIS, fmax_mhz="", energy_pj=r.energy_total_pj,
               multipliers=cfg.array.rows * cfg.array.cols * cfg.array.mults_per_pe, gemm_count=len(trace.gemms))
    return row
