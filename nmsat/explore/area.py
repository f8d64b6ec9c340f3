"""Area columns of a sweep point: FPGA cells from Yosys, or the fitted estimate, with their basis per row.

``area = "yosys"`` synthesises one PE and the core with its PEs black-boxed for each distinct hardware
config (``PE x R*C + non-PE logic + top-N unit``, as `nmsat area`, target ``xilinx``), cached on disk by
design hash; a config larger than the build limit (`nmsat.core_params.check_buildable`, e.g. the 32 x 32
default) gets the estimate instead. ``area = "estimate"`` estimates every point with the fitted
per-component model (`nmsat.explore.area_model`), whose error on held-out configs the basis quotes.
"""

from nmsat.core_params import check_buildable, core_params
from nmsat.errors import NmsatError
from nmsat.explore import area_model

COLUMNS = ("area_lut", "area_ff", "area_dsp", "area_bram", "area_basis")
MODES = ("none", "yosys", "estimate")
TARGET = "xilinx"


def check_tools(mode, fit_path):
    """Fail before any point is simulated: Yosys missing (``yosys``), or the fit's data unreadable."""
    if mode == "yosys":
        from nmsat.hw.flow.yosys import yosys_version

        yosys_version()
    if mode != "none":
        area_model.load_fit(fit_path)


def estimate_basis(fit_path):
    """The ``area_basis`` of an estimate: the fit and its held-out LUT error."""
    model, err = area_model.load_fit(fit_path)
    e = err["lut"]
    return (f"estimate (per-component fit to Yosys {TARGET}; held-out LUT error median {e['median_pct']:.0f}%, "
            f"max {e['max_pct']:.0f}% over {e['n']} configs)")


def area_columns(cfg, mode, fit_path):
    """The area columns of `cfg` under `mode` ('yosys' or 'estimate')."""
    if mode == "yosys":
        try:
            check_buildable(core_params(cfg))
        except NmsatError:
            pass  # too large to synthesise here: estimated below
        else:
            from nmsat.hw.flow.area import variant_area  # amaranth only when a synthesis is asked for

            total = variant_area(cfg, TARGET)["total"]
            return {"area_lut": total["lut"], "area_ff": total["ff"], "area_dsp": total["dsp"],
                    "area_bram": total["bram"], "area_basis": f"yosys {TARGET}"}
    model, _ = area_model.load_fit(fit_path)
    est = area_model.predict(model, area_model.config_features(cfg))
    return {"area_lut": round(est["lut"]), "area_ff": round(est["ff"]), "area_dsp": round(est["dsp"]),
            "area_bram": round(est["bram"], 1), "area_basis": estimate_basis(fit_path)}
