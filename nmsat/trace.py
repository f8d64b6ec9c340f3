"""Versioned trace schema: the GEMMs of one training step, optionally with the real N:M masks.

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

    {"schema": "nmsat.trace", "version": 1, "model": str, "method": "dense"|"srste"|"bdwp",
     "pattern": "n:m"|null, "batch": int, "step": int|null,
     "gemms": [{"layer", "pass", "m", "n", "k", "sparse", "count", "im2col": [a, b, y]}...],
     "masks": {layer: {"ff"|"bp": {"shape": [...], "bits": base64(packbits(mask))}}}}

Masks are stored in the weight's own shape ``W[out, in, ...]``; "ff" is grouped along ``in``,
"bp" along ``out``.
"""

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nmsat import atomic
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern

SCHEMA = "nmsat.trace"
VERSION = 1
PASSES = ("FF", "BP", "WG")
METHODS = ("dense", "srste", "bdwp", "transposable", "bimask")


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

    @property
    def macs(self):
        """Dense multiply-accumulates of this GEMM (all `count` repeats)."""
        return self.m * self.n * self.k * self.count


@dataclass(frozen=True)
class Trace:
    """The workload of one training step plus optional masks {layer: {"ff"/"bp": bool array}}."""

    model: str
    method: str
    pattern: NMPattern | None
    batch: int
    gemms: tuple
    step: int | None = None
    masks: dict = field(default_factory=dict)

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
            "masks": {layer: {kind: _encode_mask(mask) for kind, mask in kinds.items()}
                      for layer, kinds in self.masks.items()},
        })

    def save(self, path):
        """Write the trace atomically to `path`."""
        atomic.write_text(path, self.to_json())


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
    if not all(isinstance(s, int) and s > 0 for s in shape):
        _bad(f"{where}.shape", f"expected positive ints, got {shape!r}")
    try:
        raw = base64.b64decode(_get(obj, "bits", str, where), validate=True)
    except ValueError:
        _bad(f"{where}.bits", "not valid base64")
    size = int(np.prod(shape))
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
    count = _get(obj, "count", int, where, optional=True) or 1
    if count <= 0:
        _bad(f"{where}.count", f"must be a positive int, got {count}")
    sparse = _pattern(_get(obj, "sparse", str, where, optional=True), f"{where}.sparse")
    im2col = _get(obj, "im2col", list, where, optional=True) or [1.0, 1.0, 1.0]
    if len(im2col) != 3 or not all(isinstance(f, int | float) and not isinstance(f, bool) and f >= 1
                                   for f in im2col):
        _bad(f"{where}.im2col", f"expected three numbers >= 1 (A, B, Y), got {im2col!r}")
    return Gemm(_get(obj, "layer", str, where), pass_, sparse=sparse, count=count,
                im2col=tuple(float(f) for f in im2col), **dims)


def from_json(text, source="trace"):
    """Parse and validate trace JSON; raise `NmsatError` naming the first bad field."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise NmsatError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise NmsatError(f"{source}: not an nmsat trace (schema must be {SCHEMA!r})")
    if obj.get("version") != VERSION:
        raise NmsatError(f"{source}: unsupported trace version {obj.get('version')!r} "
                         f"(this nmsat reads {VERSION})")
    method = _get(obj, "method", str, source)
    if method not in METHODS:
        _bad(f"{source}.method", f"unknown method {method!r} (use {', '.join(METHODS)})")
    batch = _get(obj, "batch", int, source)
    if batch <= 0:
        _bad(f"{source}.batch", f"must be a positive int, got {batch}")
    gemms = _get(obj, "gemms", list, source)
    masks = _get(obj, "masks", dict, source, optional=True) or {}
    decoded = {}
    for layer, kinds in masks.items():
        if not isinstance(kinds, dict) or not set(kinds) <= {"ff", "bp"}:
            _bad(f"{source}.masks.{layer}", "expected an object with keys 'ff' and/or 'bp'")
        decoded[layer] = {k: _decode_mask(v, f"{source}.masks.{layer}.{k}") for k, v in kinds.items()}
    return Trace(
        model=_get(obj, "model", str, source), method=method,
        pattern=_pattern(_get(obj, "pattern", str, source, optional=True), f"{source}.pattern"),
        batch=batch, step=_get(obj, "step", int, source, optional=True),
        gemms=tuple(_gemm(g, f"{source}.gemms[{i}]") for i, g in enumerate(gemms)), masks=decoded)


def load(path):
    """Read and validate a trace file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise NmsatError(f"trace file {str(path)!r}: {e.strerror}") from None
    return from_json(text, source=str(path))
