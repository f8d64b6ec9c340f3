"""Area columns of a sweep point: FPGA cells from Yosys (`nmsat.hw.flow.area`), cached on disk by design hash.

``area = "yosys"`` synthesises one PE and the core with its PEs black-boxed for each distinct hardware
config (``PE x R*C + non-PE logic + top-N unit``, as `nmsat area` does, target ``xilinx``); results are cached
by the hash of the generator sources and parameters (`nmsat.hw.flow.yosys`), so a repeated config costs a file
read. A first synthesis takes seconds for a small core and minutes for a 32 x 32 one.
"""

COLUMNS = ("area_lut", "area_ff", "area_dsp", "area_bram", "area_source")
TARGET = "xilinx"


def area_columns(cfg, mode):
    """The area columns of `cfg` under `mode` ('yosys'); `NmsatError` if Yosys is missing."""
    from nmsat.hw.flow.area import variant_area  # amaranth only when area is asked for

    total = variant_area(cfg, TARGET)["total"]
    return {"area_lut": total["lut"], "area_ff": total["ff"], "area_dsp": total["dsp"], "area_bram": total["bram"],
            "area_source": f"yosys {TARGET}"}
