"""The top-N-of-M unit: L lanes of `TopNLane` behind one valid/ready input and output stream.

Interface, input ordering and timing are specified in docs/hw-topn.md. `beats` and `expected` give
the host-side ordering (which element each lane gets on each beat) and the outputs `nmsat.nm` defines.
"""

import numpy as np
from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from nmsat.errors import NmsatError
from nmsat.hw.topn_lane import TopNLane
from nmsat.nm import NMPattern, compress


class TopN(wiring.Component):
    """Top-N-of-M unit: ``lanes`` lanes, runtime choice among ``patterns`` (list of `NMPattern`/"n:m")."""

    def __init__(self, patterns, width, lanes):
        self.patterns = tuple(NMPattern.parse(p) for p in patterns)
        if not self.patterns:
            self._MustUse__silence = True  # a unit that fails to construct is not "unused"
            raise NmsatError("top-N unit needs at least one N:M pattern (config [array] patterns is empty)")
        self.width, self.lanes = width, lanes
        self.slots = max(p.n for p in self.patterns)
        self.index_bits = max(p.index_bits for p in self.patterns)
        out = data.StructLayout({
            "values": data.ArrayLayout(data.ArrayLayout(signed(width), self.slots), lanes),
            "indices": data.ArrayLayout(data.ArrayLayout(unsigned(self.index_bits), self.slots), lanes),
        })
        super().__init__({
            "pattern": In(unsigned(max(1, (len(self.patterns) - 1).bit_length()))),
            "i": In(stream.Signature(data.ArrayLayout(signed(width), lanes))),
            "o": Out(stream.Signature(out)),
        })

    @classmethod
    def from_config(cls, cfg):
        """The unit for an `AcceleratorConfig`: its patterns, data width and ``topn.lanes``."""
        return cls(cfg.array.patterns, cfg.array.data_width, cfg.topn.lanes)

    def elaborate(self, platform):
        m = Module()
        pos = Signal(self.index_bits)
        pat_reg = Signal.like(self.pattern)
        cur = Signal.like(self.pattern)
        group_m = Signal(self.index_bits + 1)
        slot_en = Signal(self.slots)
        m.d.comb += cur.eq(pat_reg)
        with m.If(pos == 0):
            m.d.comb += cur.eq(self.pattern)
        with m.Switch(cur):
            for k, p in [*enumerate(self.patterns)][1:] + [(None, self.patterns[0])]:
                with m.Case(k) if k is not None else m.Default():  # out-of-range selects pattern 0
                    m.d.comb += [group_m.eq(p.m), slot_en.eq((1 << p.n) - 1)]
        last = pos == group_m - 1
        accept = self.i.valid & self.i.ready
        m.d.comb += self.i.ready.eq(~last | ~self.o.valid | self.o.ready)

        with m.If(accept):
            m.d.sync += [pos.eq(pos + 1), pat_reg.eq(cur)]
            with m.If(last):
                m.d.sync += pos.eq(0)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        for lane in range(self.lanes):
            u = m.submodules[f"lane{lane}"] = TopNLane(self.width, self.slots, self.index_bits)
            m.d.comb += [u.x.eq(self.i.payload[lane]), u.pos.eq(pos), u.en.eq(accept),
                         u.first.eq(pos == 0), u.slot_en.eq(slot_en)]
            with m.If(accept & last):
                m.d.sync += [self.o.payload.values[lane].eq(u.values),
                             self.o.payload.indices[lane].eq(u.indices)]
        with m.If(accept & last):
            m.d.sync += self.o.valid.eq(1)
        return m



def groups_of(x, m, axis):
    """The groups of `x` along `axis` in stream order, ``[G, m]`` (zero-padded tail, see docs/hw-topn.md).

    Groups are ordered group-position-major: all groups covering window 0 of the grouped axis (the
    other axes row-major), then window 1, ... This is `compress`'s group order with its group axis first.
    """
    x = np.moveaxis(np.asarray(x), axis, -1)
    g = -(-x.shape[-1] // m)
    x = np.concatenate([x, np.zeros((*x.shape[:-1], g * m - x.shape[-1]), dtype=x.dtype)], axis=-1)
    return np.moveaxis(x.reshape(*x.shape[:-1], g, m), -2, 0).reshape(-1, m)


def beats(groups, lanes):
    """Input beats ``[ceil(G/L) * m, L]``: group ``i`` goes to lane ``i % L`` in batch ``i // L``."""
    groups = np.asarray(groups)
    g, m = groups.shape
    batches = -(-g // lanes)
    padded = np.zeros((batches * lanes, m), dtype=groups.dtype)
    padded[:g] = groups
    return padded.reshape(batches, lanes, m).transpose(0, 2, 1).reshape(batches * m, lanes)


def expected(x, pattern, axis):
    """What the unit emits for `x` grouped along `axis`: (values, indices), each ``[G, n]``, stream order."""
    c = compress(x, NMPattern.parse(pattern), axis)
    n = c.pattern.n
    return (np.moveaxis(c.values, -2, 0).reshape(-1, n), np.moveaxis(c.indices, -2, 0).reshape(-1, n))


def pack_beat(unit, beat):
    """An input beat (one signed element per lane) as the ``i.payload`` integer: lane l at bit ``l * D``."""
    mask = (1 << unit.width) - 1
    return sum((int(v) & mask) << (lane * unit.width) for lane, v in enumerate(beat))


def unpack_out(unit, word):
    """An ``o.payload`` integer as (values, indices), each ``[L, slots]`` (layout in docs/hw-topn.md)."""
    d, ib, cells = unit.width, unit.index_bits, unit.lanes * unit.slots
    vals = [(word >> (k * d)) & ((1 << d) - 1) for k in range(cells)]
    vals = [v - (1 << d) if v >> (d - 1) else v for v in vals]
    idx = [(word >> (cells * d + k * ib)) & ((1 << ib) - 1) for k in range(cells)]
    shape = (unit.lanes, unit.slots)
    return np.array(vals).reshape(shape), np.array(idx).reshape(shape)
