"""FPGA area of the accelerator: one PE, the R x C core, the top-N unit; dense-only versus dense + N:M.

The core's area is estimated as ``PE x R*C + non-PE logic``: one PE is synthesised on its own, and the
core is synthesised with every PE replaced by a black box (skew registers, scratchpads, controller).
Amaranth emits one Verilog module per PE instance, so this keeps a 32 x 32 core tractable. The estimate
understates the N:M overhead (hw-small: +36.8% LUT estimated, +69.9% LUT flat): the headline number is
the core synthesised flat (``whole=True``, ``nmsat area --flat``), for arrays small enough to synthesise
whole. The dense-only variant is the same config with ``patterns = []`` (no top-N unit, a dense-only PE
and activation bus). Every table shows LUT-RAM / shift-register LUTs and MUXF7/8 next to LUTs.
"""

import hashlib
import inspect
import json
import os
import sys
from importlib import metadata
from pathlib import Path

from nmsat.hw.flow.yosys import script, synthesize

CATEGORIES = ("lut", "ff", "dsp", "bram", "carry", "lut_mem", "muxf")
_XILINX = {"DSP48E1": ("dsp", 1), "RAMB36E1": ("bram", 1), "RAMB18E1": ("bram", 0.5),
           "CARRY4": ("carry", 1), "MUXF7": ("muxf", 1), "MUXF8": ("muxf", 1), "INV": ("lut", 1)}
_ICE40 = {"SB_LUT4": ("lut", 1), "SB_MAC16": ("dsp", 1), "SB_RAM40_4K": ("bram", 1), "SB_CARRY": ("carry", 1)}
_ECP5 = {"LUT4": ("lut", 1), "TRELLIS_FF": ("ff", 1), "MULT18X18D": ("dsp", 1), "ALU54B": ("dsp", 1),
         "DP16KD": ("bram", 1), "TRELLIS_DPR16X4": ("lut_mem", 1), "PFUMX": ("muxf", 1), "L6MUX21": ("muxf", 1),
         "CCU2C": ("carry", 1)}
_IGNORED = ("BUFG", "IBUF", "OBUF", "SB_GB", "SB_IO", "TRELLIS_IO")  # clock and IO buffers: not logic


def classify(cells):
    """Primitive cell counts -> ``CATEGORIES`` (+ ``other``); BRAM in 36 Kb (Xilinx) / 4 Kb (iCE40) / 18 Kb
    (ECP5) blocks; ``lut_mem``: LUT-RAM and shift-register LUTs; ``muxf``: MUXF7/8 (Xilinx), PFUMX/L6MUX21 (ECP5)."""
    out = dict.fromkeys((*CATEGORIES, "other"), 0)
    for cell, count in cells.items():
        if cell in _XILINX or cell in _ICE40 or cell in _ECP5:
            cat, weight = _XILINX.get(cell) or _ICE40.get(cell) or _ECP5[cell]
        elif cell.startswith("LUT"):
            cat, weight = "lut", 1
        elif cell.startswith(("FD", "SB_DFF")):
            cat, weight = "ff", 1
        elif cell.startswith(("SRL", "RAM32", "RAM64", "RAM128", "RAM256")):
            cat, weight = "lut_mem", 1
        elif cell in _IGNORED or "." in cell:  # a dotted name is a black-boxed Amaranth module
            continue
        else:
            cat, weight = "other", 1
        out[cat] += count * weight
    return out


def _add(*parts, scale=1):
    return {k: scale * sum(p[k] for p in parts) for k in (*CATEGORIES, "other")}


def _design_modules(cls, params):
    """The `nmsat` modules a component is built from: those of its class and parameters and,
    transitively, every `nmsat` module whose names they import."""
    found, todo = {}, [m for m in (cls.__module__, type(params).__module__) if m.startswith("nmsat.")]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = mod = sys.modules[name]
        for value in vars(mod).values():
            ref = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
            if isinstance(ref, str) and ref.startswith("nmsat.") and ref in sys.modules:
                todo.append(ref)
    return [found[name] for name in sorted(found)]


def _key(cls, params):
    """Cache key of a generated design: the sources it is generated from, Amaranth's version, and
    its parameters. Hashing the generators instead of the RTLIL skips converting a 32 x 32 core."""
    h = hashlib.sha256(json.dumps([cls.__qualname__, repr(params), metadata.version("amaranth")]).encode())
    for mod in _design_modules(cls, params):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


def _rtlil(component_fn, top):
    def convert():
        os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
        from amaranth.back import rtlil

        return rtlil.convert(component_fn(), name=top)

    return convert


def pe_area(params, target):
    """One PE: totals and parts (``mux``: N:M operand muxes, ``mac``, ``regs``: pass-through registers)."""
    from nmsat.hw.datapath.pe import PE

    res = synthesize(_rtlil(lambda: PE(params), "pe"), "pe", target, key=_key(PE, params))
    mods = res["modules"]
    parts = {"mux": classify(mods.get("pe.mux", {})), "mac": classify(mods.get("pe.mac", {})),
             "regs": classify(mods["pe"])}
    return _add(*parts.values()), parts


def non_pe_area(params, target):
    """The core with its PEs black-boxed: totals and parts (``skew`` registers, ``dma``, ``control``: loop and
    tile engines, ``spads``: scratchpads and the glue at the top)."""
    from nmsat.errors import NmsatError
    from nmsat.hw.core import Core

    res = synthesize(_rtlil(lambda: Core(params), "core"), "core", target, blackbox="core.tiles.array.pe_*",
                     key=_key(Core, params))
    pes = sum(n for cell, n in res["design"].items() if cell.startswith("core.tiles.array.pe_"))
    if pes != params.rows * params.cols:
        raise NmsatError(f"area: found {pes} black-boxed PEs in the core, expected {params.rows * params.cols} "
                         "(the core's module names changed?)")
    mods = res["modules"]
    skew = [classify(cells) for name, cells in mods.items() if name.startswith("core.tiles.array")
            and not name.startswith("core.tiles.array.pe_")]
    dma = [classify(cells) for name, cells in mods.items() if name.startswith(("core.reader", "core.writer"))]
    ctrl = [classify(cells) for name, cells in mods.items() if name in ("core.loop", "core.tiles")]
    parts = {"skew": _add(*skew), "dma": _add(*dma), "control": _add(*ctrl), "spads": classify(mods["core"])}
    return _add(*parts.values()), parts


def whole_core_area(params, target):
    """The whole core synthesised flat (PEs included): what ``PE x R*C + non-PE`` estimates."""
    from nmsat.hw.core import Core

    res = synthesize(_rtlil(lambda: Core(params), "core"), "core", target, key=_key(Core, params),
                     flatten=True)
    return classify(res["design"])


def topn_area(cfg, target):
    """The top-N-of-M unit of `cfg` (zero when it has no patterns: a dense-only design has none)."""
    from nmsat.hw.topn import TopN

    if not cfg.array.patterns:
        return dict.fromkeys((*CATEGORIES, "other"), 0)
    args = (cfg.array.patterns, cfg.array.data_width, cfg.topn.lanes)
    res = synthesize(_rtlil(lambda: TopN(*args), "topn"), "topn", target, key=_key(TopN, args))
    return classify(res["design"])


def variant_area(cfg, target, whole=False):
    """Area of one variant (`cfg` as given): pe, pe_parts, pe_array, non_pe, non_pe_parts, core, topn,
    total, and with `whole` also core_whole (the flat synthesis of the whole core)."""
    from nmsat.core_params import core_params

    params = core_params(cfg)
    pe, pe_parts = pe_area(params, target)
    pe_array = _add(pe, scale=params.rows * params.cols)
    non_pe, non_pe_parts = non_pe_area(params, target)
    core = _add(pe_array, non_pe)
    topn = topn_area(cfg, target)
    out = {"pe": pe, "pe_parts": pe_parts, "pe_array": pe_array, "non_pe": non_pe,
           "non_pe_parts": non_pe_parts, "core": core, "topn": topn, "total": _add(core, topn)}
    if whole:
        out["core_whole"] = whole_core_area(params, target)
        out["total_whole"] = _add(out["core_whole"], topn)
    return out


def _pct(nm, dense):
    return {k: (round(100 * (nm[k] - dense[k]) / dense[k], 1) if dense[k] else None) for k in dense}


def area_report(cfg, target="xilinx", whole=False):
    """Area of `cfg` dense-only and dense + N:M, with the relative overhead (%) of N:M support.

    `whole` also synthesises each whole core flat, a check of the estimate (small arrays only).
    """
    from nmsat.errors import NmsatError

    script("top", target)  # rejects an unknown target before any work
    if not cfg.array.patterns:
        raise NmsatError("area: config [array] patterns is empty, so there is no N:M support to compare")
    dense = variant_area(cfg.replace(array={"patterns": []}), target, whole)
    nm = variant_area(cfg, target, whole)
    return {"config": cfg.name, "target": target, "rows": cfg.array.rows, "cols": cfg.array.cols,
            "mults_per_pe": cfg.array.mults_per_pe, "data_width": cfg.array.data_width,
            "patterns": [str(p) for p in cfg.array.patterns], "topn_lanes": cfg.topn.lanes,
            "dense": dense, "nm": nm,
            "overhead_pct": {k: _pct(nm[k], dense[k]) for k in ("pe", "core", "total", "core_whole", "total_whole")
                             if k in nm}}


_ROWS = [("PE", "pe"), ("  N:M muxes", "pe_parts.mux"), ("  MAC", "pe_parts.mac"),
         ("  registers", "pe_parts.regs"), ("PE x R*C", "pe_array"), ("non-PE logic", "non_pe"),
         ("  skew regs", "non_pe_parts.skew"), ("  DMA", "non_pe_parts.dma"), ("  control", "non_pe_parts.control"),
         ("  spads", "non_pe_parts.spads"),
         ("core", "core"), ("top-N unit", "topn"), ("total", "total"), ("core (flat)", "core_whole"),
         ("total (flat)", "total_whole")]
_COLS = ("lut", "ff", "dsp", "bram", "carry", "lut_mem", "muxf")
_LABELS = {"lut_mem": "LUTRAM"}


def _get(variant, path):
    for part in path.split("."):
        variant = variant[part]
    return variant


def format_table(report):
    """The report as a text table: both variants, the difference, and the relative overhead."""
    r = report
    head = (f"area of {r['config']} on {r['target']}: {r['rows']}x{r['cols']} PEs x {r['mults_per_pe']} mults, "
            f"{r['data_width']}-bit, patterns {' '.join(r['patterns'])}, top-N {r['topn_lanes']} lanes")
    cols = "".join(f"{_LABELS.get(c, c.upper()):>7}" for c in _COLS)
    width = 7 * len(_COLS)
    lines = [head, f"{'':14}|{'dense-only':^{width}}|{'dense + N:M':^{width}}|{'N:M - dense':^18}|{'overhead %':^18}",
             f"{'part':14}|{cols}|{cols}|{'LUT':>9}{'FF':>9}|{'LUT':>9}{'FF':>9}"]
    for label, path in _ROWS:
        if path.split(".")[0] not in r["nm"]:
            continue
        d, n = _get(r["dense"], path), _get(r["nm"], path)
        pct = [f"{100 * (n[k] - d[k]) / d[k]:+8.1f}%" if d[k] else f"{'-':>9}" for k in ("lut", "ff")]
        lines.append(f"{label:14}|" + "".join(f"{d[k]:>7g}" for k in _COLS) + "|"
                     + "".join(f"{n[k]:>7g}" for k in _COLS) + "|"
                     + "".join(f"{n[k] - d[k]:>+9g}" for k in ("lut", "ff")) + "|" + "".join(pct))
    key = "total_whole" if "total_whole" in r["nm"] else "total"
    o = r["overhead_pct"][key]
    how = ("flat core + top-N unit" if key == "total_whole"
           else "PE x R*C estimate, understated; --flat for the headline")
    lines.append(f"N:M overhead ({how}): LUT {o['lut']:+.1f}%, FF {o['ff']:+.1f}%, at "
                 f"{r['nm'][key]['dsp']:g} vs {r['dense'][key]['dsp']:g} DSP")
    return "\n".join(lines)
