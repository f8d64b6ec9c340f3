"""The N:M sparsity pattern and compressed format: THE definition that algo, sim and hw are tested against.

Rules (every layer follows them exactly):

* A pattern ``n:m`` keeps at most ``n`` non-zeros in every group of ``m`` consecutive elements along
  one axis, with ``0 < n < m``.
* **Selection**: in each group the ``n`` elements of largest magnitude ``|x|`` are kept.
  **Tie-break**: among equal magnitudes the lower index within the group wins.
* **Ragged tail**: an axis whose length ``L`` is not a multiple of ``m`` is zero-padded to
  ``ceil(L / m) * m``. Padded positions are never kept in preference to real ones (they come after
  every real element, and the tie-break prefers lower indices), so a tail group of ``r < m`` real
  elements keeps ``min(n, r)`` of them.
* **Compressed format**: per group, ``n`` values and ``n`` indices (position within the group,
  ``0 <= idx < m``, i.e. ``log2(m)`` bits when m is a power of two), both in ascending index order;
  indices are stored as uint8 for ``m <= 256`` and uint16 above (``m <= MAX_M``).
  The grouped axis is moved last: ``values.shape == indices.shape == (*other_dims, groups, n)``.
  Padded positions that a short tail group must still fill are stored as value 0 with their own
  (padding) index, which decompression drops.
"""

from dataclasses import dataclass

import numpy as np

from nmsat.checks import integer, require
from nmsat.errors import NmsatError

MAX_M = 4096  # largest group size: indices fit uint16 and a group's padding stays small


@dataclass(frozen=True, order=True)
class NMPattern:
    """A validated N:M pattern: keep ``n`` of every ``m`` consecutive elements (``0 < n < m``)."""

    n: int
    m: int

    def __post_init__(self):
        n = integer("N:M pattern n", self.n)
        m = integer("N:M pattern m", self.m)
        require(0 < n < m, f"bad N:M pattern {n}:{m}: need 0 < N < M")
        require(m <= MAX_M, f"bad N:M pattern {n}:{m}: M must be <= {MAX_M}")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "m", m)

    @classmethod
    def parse(cls, text):
        """Parse ``"2:8"`` (or an ``NMPattern``) into a pattern; a clear error otherwise."""
        if isinstance(text, NMPattern):
            return text
        parts = str(text).strip().split(":")
        if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() and len(p.strip()) <= 20
                                      for p in parts):
            shown = str(text) if len(str(text)) <= 40 else str(text)[:37] + "..."
            raise NmsatError(f"bad N:M pattern {shown!r}: expected 'N:M' such as '2:8'")
        return cls(int(parts[0]), int(parts[1]))

    @property
    def density(self):
        """Fraction of elements kept, n/m."""
        return self.n / self.m

    @property
    def ideal_speedup(self):
        """m/n: reduction elements per multiplier per cycle, relative to dense."""
        return self.m / self.n

    @property
    def index_bits(self):
        """Bits of one in-group index: ceil(log2(m))."""
        return max(1, int(np.ceil(np.log2(self.m))))

    def __str__(self):
        return f"{self.n}:{self.m}"


@dataclass(frozen=True)
class NMCompressed:
    """Values + indices of an N:M-pruned array; see the module docstring for the layout."""

    values: np.ndarray
    indices: np.ndarray
    pattern: NMPattern
    axis: int
    shape: tuple


def _grouped(x, pattern, axis):
    """Move `axis` last, zero-pad it to a multiple of m, and split it into (groups, m)."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    length = x.shape[-1]
    groups = -(-length // pattern.m)
    pad = groups * pattern.m - length
    if pad:
        x = np.concatenate([x, np.zeros((*x.shape[:-1], pad), dtype=x.dtype)], axis=-1)
    return x.reshape(*x.shape[:-1], groups, pattern.m), length


def _check_axis(x, axis):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise NmsatError(f"N:M needs a real-valued (bool, int or float) array, got dtype {x.dtype}")
    axis = integer("axis", axis)
    if x.ndim == 0:
        raise NmsatError("N:M needs an array with at least one axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise NmsatError(f"axis {axis} out of range for an array of shape {x.shape}")
    return axis % x.ndim


def _kept_positions(grouped, pattern, length):
    """In-group positions of the kept elements, ascending, shape (..., groups, n)."""
    mag = np.abs(grouped).astype(np.float64)
    # Padding sorts after every real element: give it magnitude -1.
    pos = np.arange(grouped.shape[-2] * pattern.m).reshape(grouped.shape[-2], pattern.m)
    mag = np.where(pos >= length, -1.0, mag)
    order = np.argsort(-mag, axis=-1, kind="stable")  # stable: lower index wins ties
    return np.sort(order[..., : pattern.n], axis=-1)


def nm_mask(x, pattern, axis=-1):
    """Boolean mask keeping the n largest-|x| of every m consecutive elements along `axis`."""
    pattern = NMPattern.parse(pattern)
    axis = _check_axis(x, axis)
    grouped, length = _grouped(x, pattern, axis)
    kept = _kept_positions(grouped, pattern, length)
    mask = np.zeros(grouped.shape, dtype=bool)
    np.put_along_axis(mask, kept, True, axis=-1)
    mask = mask.reshape(*mask.shape[:-2], -1)[..., :length]
    return np.moveaxis(mask, -1, axis)


def compress(x, pattern, axis=-1):
    """Prune `x` to `pattern` along `axis` and return its values + indices (`NMCompressed`)."""
    pattern = NMPattern.parse(pattern)
    axis = _check_axis(x, axis)
    x = np.asarray(x)
    grouped, length = _grouped(x, pattern, axis)
    kept = _kept_positions(grouped, pattern, length)
    values = np.take_along_axis(grouped, kept, axis=-1)
    index_dtype = np.uint8 if pattern.m <= 256 else np.uint16
    return NMCompressed(values, kept.astype(index_dtype), pattern, axis, tuple(x.shape))


def decompress(c):
    """Rebuild the dense (pruned) array from an `NMCompressed`."""
    m = c.pattern.m
    moved = list(c.shape)
    length = moved.pop(c.axis)
    groups = c.values.shape[-2]
    out = np.zeros((*moved, groups, m), dtype=c.values.dtype)
    np.put_along_axis(out, c.indices.astype(np.intp), c.values, axis=-1)
    out = out.reshape(*moved, groups * m)[..., :length]
    return np.moveaxis(out, -1, c.axis)


def is_nm(mask, pattern, axis=-1):
    """Whether the boolean `mask` keeps at most n of every m consecutive elements along `axis`."""
    pattern = NMPattern.parse(pattern)
    axis = _check_axis(mask, axis)
    grouped, _ = _grouped(np.asarray(mask, dtype=bool), pattern, axis)
    return bool((grouped.sum(axis=-1) <= pattern.n).all())


def prune(x, pattern, axis=-1):
    """`x` with everything outside its N:M mask set to zero."""
    return np.where(nm_mask(x, pattern, axis), x, np.zeros_like(x))
