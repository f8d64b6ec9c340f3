"""`NMConfig`: how a model is sparsified (method, n:m, SR-STE decay lambda, mask-update interval)."""

import math
from dataclasses import dataclass

from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.trace import METHODS


@dataclass(frozen=True)
class NMConfig:
    """Validated sparse-training settings.

    * ``method``: ``dense`` (no masks), ``srste`` (FF and BP use ``W . Mff``) or ``bdwp`` (FF uses
      ``W . Mff``, BP uses ``W . Mbp``);
    * ``n``, ``m``: the N:M pattern (ignored by ``dense``);
    * ``decay``: the SR-STE lambda; the weight gradient gets ``+ decay * (1 - Mff) . W`` (not for dense);
    * ``interval``: masks are recomputed from the dense weights every ``interval`` training steps.
    """

    method: str = "bdwp"
    n: int = 2
    m: int = 8
    decay: float = 2e-4
    interval: int = 1

    def __post_init__(self):
        if self.method not in METHODS:
            raise NmsatError(f"unknown method {self.method!r} (use {', '.join(METHODS)})")
        NMPattern(self.n, self.m)
        if isinstance(self.decay, bool) or not isinstance(self.decay, int | float) or not 0 <= self.decay < math.inf:
            raise NmsatError(f"SR-STE decay {self.decay!r}: must be a finite number >= 0")
        if isinstance(self.interval, bool) or not isinstance(self.interval, int) or self.interval < 1:
            raise NmsatError(f"mask-update interval {self.interval!r}: must be an integer >= 1")

    @classmethod
    def parse(cls, method="bdwp", pattern="2:8", decay=2e-4, interval=1):
        """Build from a pattern string such as ``"2:8"`` (None is allowed for ``dense``)."""
        if pattern is None:
            if method != "dense":
                raise NmsatError(f"method {method!r} needs an N:M pattern such as '2:8'")
            return cls(method, decay=decay, interval=interval)
        p = NMPattern.parse(pattern)
        return cls(method, p.n, p.m, decay, interval)

    @property
    def pattern(self):
        """The `NMPattern`, or None for dense."""
        return None if self.method == "dense" else NMPattern(self.n, self.m)
