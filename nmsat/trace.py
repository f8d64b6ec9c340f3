"""Versioned trace schema: the GEMMs and non-GEMM work of one training step, optionally with the real N:M masks.

GEMM convention (all passes): ``Y[M, N] = A[M, K] @ B[N, K]^T`` with the reduction along K.
``B`` is the operand the accelerator can hold compressed; for a layer with weight ``W[out, in*kh*kw]``:

* FF (forward):        A = X,   B = W           M = batch*out_pixels, N = out,       K = in*kh*kw
* BP (backward-data):  A = dY,  B = W^T         M = batch*out_pixels, N = in*kh*kw,  K = out
* WG (weight-gradient): A = dY^T, B = X^T       M = out, N = in*kh*kw, K = batch*out_pixels (dense)

``sparse`` is the N:M pattern of B along K (``"2:8"``) or null when the GEMM is dense; ``count``
repeats a GEMM (attention heads). ``im2col`` gives, for A, B and Y, how many times larger the operand
as the GEMM sees it is than the tensor stored in DRAM (a 3x3 stride-1 convolution's im2col activations:
~9); an accelerator lowering convolutions on chip moves only the stored tensor. Default 1, 1, 1.
File layout (JSON)::

    {"schema": "nmsat.trace", "version": 2, "model": str, "method": "dense"|"srste"|"bdwp",
     "pattern": "n:m"|null, "batch": int, "step": int|null,
     "gemms": [{"layer", "pass", "m", "n", "k", "sparse", "count", "im2col": [a, b, y]}...],
     "nongemm": [{"layer", "pass", "op", "in_elements", "out_elements", "bytes"}...],
     "masks": {layer: {"ff"|"bp": {"shape": [...], "bits": base64(packbits(mask))}}}}

Version 2 added ``nongemm``: every other operator of the step (norms, activations, softmax, pooling,
residual adds, copies, their backward), with the elements it reads and writes and its bytes moved
(read + written, at the traced dtype); ``pass`` is FF (forward) or BP (backward). Version 1 files (no
``nongemm``) still load, with no non-GEMM work.

Masks are stored in the weight's own shape ``W[out, in, ...]``; "ff" is grouped along ``in``,
"bp" along ``out`` (within each conv group).
"""

import base64
import json
import math
from dataclasses import dataclass, field

import numpy as np

from nmsat import atomic, checks
from nmsat.checks import integer, number, read_input, require
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, is_nm

SCHEMA = "nmsat.trace"
VERSION = 2
READS = (1, 2)  # trace versions this nmsat loads
PASSES = ("FF", "BP", "WG")
NONGEMM_PASSES = ("FF", "BP")
METHODS = ("dense", "srste", "bdwp")
MAX_DIM = 2**40  # largest GEMM dimension or repeat count (~1.1e12)
MAX_BATCH = 2**31
MAX_IM2COL = 1e6
MASK_AXES = {"ff": 1, "bp": 0}  # masks are N:M along W's input (ff) or output (bp) channels


@dataclass(frozen=True)
class Gemm:
    """One GEMM of a training step: Y[M,N] = A[M,K] @ B[N,K]^T, B optionally N:M sparse along K."""

    layer: str
    pass_: str
    m: int
    n: int
    k: int
    sparse: NMPattern | None = None
    count: int = 1
    im2col: tuple = (1.0, 1.0, 1.0)

    def __post_init__(self):
        checks.text("gemm layer", self.layer)
        require(self.pass_ in PASSES, f"gemm pass {self.pass_!r}: unknown (use FF, BP or WG)")
        name = f"gemm {self.layer} {self.pass_}"
        for key in ("m", "n", "k", "count"):
            object.__setattr__(self, key, integer(f"{name} {key}", getattr(self, key), 1, MAX_DIM))
        if self.sparse is not None:
            object.__setattr__(self, "sparse", NMPattern.parse(self.sparse))
        f = self.im2col
        require(isinstance(f, list | tuple) and len(f) == 3,
                f"{name} im2col = {f!r}: expected three numbers >= 1 (A, B, Y)")
        object.__setattr__(self, "im2col", tuple(number(f"{name} im2col", x, 1.0, MAX_IM2COL) for x in f))

    @property
    def macs(self):
        """Dense multiply-accumulates of this GEMM (all `count` repeats)."""
        return self.m * self.n * self.k * self.count


@dataclass(frozen=True)
class NonGemm:
    """One non-GEMM operator of a training step: elements read and written, bytes moved (read + written)."""

    layer: str
    pass_: str
    op: str
    in_elements: int
    out_elements: int
    bytes: int

    @property
    def elements(self):
        """Elements the operator processes: the larger of what it reads and what it writes."""
        return max(self.in_elements, self.out_elements)


@dataclass(frozen=True)
class Trace:
    """The workload of one training step (GEMMs, non-GEMM operators) plus optional masks
    {layer: {"ff"/"bp": bool array}}."""

    model: str
    method: str
    pattern: NMPattern | None
    batch: int
    gemms: tuple
    step: int | None = None
    masks: dict = field(default_factory=dict)
    nongemm: tuple = ()

    def __post_init__(self):
        checks.text("trace model", self.model)
        require(self.method in METHODS, f"trace method {self.method!r}: unknown (use {', '.join(METHODS)})")
        if self.pattern is not None:
            object.__setattr__(self, "pattern", NMPattern.parse(self.pattern))
        object.__setattr__(self, "batch", integer("trace batch", self.batch, 1, MAX_BATCH))
        if self.step is not None:
            object.__setattr__(self, "step", integer("trace step", self.step, 0, 2**63 - 1))
        require(isinstance(self.gemms, list | tuple), f"trace gemms: expected a list, got {type(self.gemms).__name__}")
        object.__setattr__(self, "gemms", tuple(self.gemms))
        require(len(self.gemms) > 0, "trace gemms: empty (a training step has at least one GEMM)")
        for g in self.gemms:
            require(isinstance(g, Gemm), f"trace gemms: expected Gemm entries, got {type(g).__name__}")
        _check_patterns(self)
        _check_masks(self)

    def to_json(self):
        """Serialize to the versioned JSON text."""
        return json.dumps({
            "schema": SCHEMA, "version": VERSION, "model": self.model, "method": self.method,
            "pattern": None if self.pattern is None else str(self.pattern),
            "batch": self.batch, "step": self.step,
            "gemms": [{"layer": g.layer, "pass": g.pass_, "m": g.m, "n": g.n, "k": g.k,
                       "sparse": None if g.sparse is None else str(g.sparse), "count": g.count,
                       "im2col": list(g.im2col)}
                      for g in self.gemms],
            "nongemm": [{"layer": o.layer, "pass": o.pass_, "op": o.op, "in_elements": o.in_elements,
                         "out_elements": o.out_elements, "bytes": o.bytes} for o in self.nongemm],
            "masks": {layer: {kind: _encode_mask(mask) for kind, mask in kinds.items()}
                      for layer, kinds in self.masks.items()},
        }, allow_nan=False)

    def save(self, path):
        """Write the trace atomically to `path`."""
        atomic.write_text(path, self.to_json())


def _check_patterns(trace):
    """One N:M pattern per trace: the sparse GEMMs' patterns agree with each other and with the trace's."""
    sparse = {g.sparse for g in trace.gemms if g.sparse is not None}
    require(len(sparse) <= 1, f"trace gemms: mixed sparse patterns {sorted(str(p) for p in sparse)}")
    require(not sparse or trace.pattern is None or sparse == {trace.pattern},
            f"trace pattern {trace.pattern}: its GEMMs are sparse {next(iter(sparse), '')}")
    require(trace.method != "dense" or (trace.pattern is None and not sparse),
            "trace method 'dense': has an N:M pattern or sparse GEMMs")


def _check_masks(trace):
    """Masks name layers with an FF GEMM, hold one element per weight and are N:M along their axis."""
    require(isinstance(trace.masks, dict), "trace masks: expected a dict {layer: {'ff'|'bp': mask}}")
    ff = {g.layer: g for g in trace.gemms if g.pass_ == "FF"}
    pattern = trace.pattern or next((g.sparse for g in trace.gemms if g.sparse is not None), None)
    for layer, kinds in trace.masks.items():
        where = f"trace masks.{layer}"
        require(layer in ff, f"{where}: no FF GEMM of that layer in the trace")
        require(isinstance(kinds, dict) and kinds and set(kinds) <= set(MASK_AXES),
                f"{where}: expected a dict with keys 'ff' and/or 'bp'")
        require(pattern is not None, f"{where}: masks need an N:M pattern and the trace has none")
        g = ff[layer]
        for kind, mask in kinds.items():
            mask = np.asarray(mask)
            require(mask.dtype == bool and mask.ndim >= 2, f"{where}.{kind}: expected a boolean weight-shaped array")
            require(mask.size == g.n * g.k * g.count,
                    f"{where}.{kind}: shape {mask.shape} does not match the layer's weight "
                    f"({g.n * g.k * g.count} elements)")
            require(is_nm(mask, pattern, MASK_AXES[kind]), f"{where}.{kind}: not {pattern} along axis "
                    f"{MASK_AXES[kind]}")


def _encode_mask(mask):
    mask = np.asarray(mask, dtype=bool)
    return {"shape": list(mask.shape), "bits": base64.b64encode(np.packbits(mask.ravel())).decode()}


def _bad(where, msg):
    raise NmsatError(f"trace {where}: {msg}")


def _get(obj, key, kind, where, optional=False):
    if key not in obj:
        if optional:
            return None
        _bad(where, f"missing key {key!r}")
    v = obj[key]
    if v is None and optional:
        return None
    ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
    if not ok:
        _bad(f"{where}.{key}", f"expected {kind.__name__}, got {v!r}")
    return v


def _pattern(text, where):
    if text is None:
        return None
    try:
        return NMPattern.parse(text)
    except NmsatError as e:
        _bad(where, str(e))


def _decode_mask(obj, where):
    shape = _get(obj, "shape", list, where)
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape) or len(shape) > 8:
        _bad(f"{where}.shape", f"expected up to 8 positive ints, got {shape!r}")
    try:
        raw = base64.b64decode(_get(obj, "bits", str, where), validate=True)
    except ValueError:
        _bad(f"{where}.bits", "not valid base64")
    size = math.prod(shape)
    if len(raw) != -(-size // 8):
        _bad(f"{where}.bits", f"{len(raw)} bytes do not hold a mask of shape {tuple(shape)}")
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))[:size]
    return bits.astype(bool).reshape(shape)


def _gemm(obj, where):
    if not isinstance(obj, dict):
        _bad(where, f"expected an object, got {obj!r}")
    pass_ = _get(obj, "pass", str, where)
    if pass_ not in PASSES:
        _bad(f"{where}.pass", f"unknown pass {pass_!r} (use FF, BP or WG)")
    dims = {}
    for key in ("m", "n", "k"):
        dims[key] = _get(obj, key, int, where)
        if dims[key] <= 0:
            _bad(f"{where}.{key}", f"must be a positive int, got {dims[key]}")
    count = _get(obj, "count", int, where, optional=True)
    count = 1 if count is None else count
    if count <= 0:
        _bad(f"{where}.count", f"must be a positive int, got {count}")
    sparse = _pattern(_get(obj, "sparse", str, where, optional=True), f"{where}.sparse")
    im2col = _get(obj, "im2col", list, where, optional=True)
    im2col = [1.0, 1.0, 1.0] if im2col is None else im2col
    if len(im2col) != 3 or not all(isinstance(f, int | float) and not isinstance(f, bool) and f >= 1
                                   for f in im2col):
        _bad(f"{where}.im2col", f"expected three numbers >= 1 (A, B, Y), got {im2col!r}")
    try:
        return Gemm(_get(obj, "layer", str, where), pass_, sparse=sparse, count=count,
                    im2col=tuple(float(f) for f in im2col), **dims)
    except NmsatError as e:
        _bad(where, str(e))


def _nongemm(obj, where):
    if not isinstance(obj, dict):
        _bad(where, f"expected an object, got {obj!r}")
    pass_ = _get(obj, "pass", str, where)
    if pass_ not in NONGEMM_PASSES:
        _bad(f"{where}.pass", f"unknown pass {pass_!r} (use FF or BP)")
    sizes = {}
    for key in ("in_elements", "out_elements", "bytes"):
        sizes[key] = _get(obj, key, int, where)
        if sizes[key] < 0:
            _bad(f"{where}.{key}", f"must be an int >= 0, got {sizes[key]}")
    return NonGemm(_get(obj, "layer", str, where), pass_, _get(obj, "op", str, where), **sizes)


def from_json(text, source="trace"):
    """Parse and validate trace JSON; raise `NmsatError` naming the first bad field."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise NmsatError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise NmsatError(f"{source}: nested too deeply") from None
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise NmsatError(f"{source}: not an nmsat trace (schema must be {SCHEMA!r})")
    version = obj.get("version")
    if isinstance(version, bool) or version not in READS:
        raise NmsatError(f"{source}: unsupported trace version {version!r} "
                         f"(this nmsat reads {', '.join(map(str, READS))})")
    method = _get(obj, "method", str, source)
    if method not in METHODS:
        _bad(f"{source}.method", f"unknown method {method!r} (use {', '.join(METHODS)})")
    batch = _get(obj, "batch", int, source)
    if batch <= 0:
        _bad(f"{source}.batch", f"must be a positive int, got {batch}")
    gemms = _get(obj, "gemms", list, source)
    nongemm = _get(obj, "nongemm", list, source) if version >= 2 else []
    masks = _get(obj, "masks", dict, source, optional=True) or {}
    decoded = {}
    for layer, kinds in masks.items():
        if not isinstance(kinds, dict) or not set(kinds) <= {"ff", "bp"}:
            _bad(f"{source}.masks.{layer}", "expected an object with keys 'ff' and/or 'bp'")
        decoded[layer] = {k: _decode_mask(v, f"{source}.masks.{layer}.{k}") for k, v in kinds.items()}
    parsed = tuple(_gemm(g, f"{source}.gemms[{i}]") for i, g in enumerate(gemms))
    others = tuple(_nongemm(o, f"{source}.nongemm[{i}]") for i, o in enumerate(nongemm))
    model, step = _get(obj, "model", str, source), _get(obj, "step", int, source, optional=True)
    pattern = _pattern(_get(obj, "pattern", str, source, optional=True), f"{source}.pattern")
    try:
        return Trace(model=model, method=method, pattern=pattern, batch=batch, step=step, gemms=parsed,
                     masks=decoded, nongemm=others)
    except NmsatError as e:
        raise NmsatError(f"{source}: {e}") from None


def load(path):
    """Read and validate a trace file."""
    return from_json(read_input(path, "trace file"), source=str(path))
