"""One lane of the top-N-of-M unit: keeps the n largest-|x| elements of the group streaming through it.

The lane holds up to ``slots`` kept elements in ascending index order (the order they arrived in).
While fewer than n are kept the new element is appended; once n are kept, the weakest kept element
(smallest |x|, the higher index on ties) is evicted if the new one is strictly larger in magnitude
(a new element has the highest index so far, so it loses every tie), the elements after it move up
one slot and the new one takes the last slot. This is exactly `nmsat.nm`'s selection and order.
"""

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out


class TopNLane(wiring.Component):
    """Streaming top-n selection over one group; ``values``/``indices`` show the state with ``x`` included.

    Ports: ``x``/``pos`` the element and its in-group index; ``en`` accepts it (the kept set updates on
    the clock edge); ``first`` marks the first element of a group (the kept set starts empty);
    ``slot_en`` has bit i set for i < n (runtime n). ``values``, ``indices`` and ``kept`` are the kept
    set including the current element (combinational); unused slots read 0.
    """

    def __init__(self, width, slots, index_bits):
        self.width, self.slots = width, slots
        super().__init__({
            "x": In(signed(width)),
            "pos": In(unsigned(index_bits)),
            "en": In(1),
            "first": In(1),
            "slot_en": In(slots),
            "values": Out(data.ArrayLayout(signed(width), slots)),
            "indices": Out(data.ArrayLayout(unsigned(index_bits), slots)),
            "kept": Out(slots),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.slots
        val = [Signal(signed(self.width), name=f"val{i}") for i in range(n)]
        idx = [Signal.like(self.pos, name=f"idx{i}") for i in range(n)]
        ok = Signal(n)
        cur_ok = Mux(self.first, 0, ok)
        mag = [abs(v) for v in val]
        mag_x = abs(self.x)
        full = (cur_ok | ~self.slot_en).all()

        # Slot i is the weakest if every other kept slot beats it (an earlier slot wins a tie).
        weakest = []
        for i in range(n):
            beaten = [~cur_ok[j] | ((mag[i] <= mag[j]) if j < i else (mag[i] < mag[j]))
                      for j in range(n) if j != i]
            weakest.append(Cat(cur_ok[i], *beaten).all())
        mag_w = 0
        for i in range(n):
            mag_w = Mux(weakest[i], mag[i], mag_w)
        replace = full & (mag_x > mag_w)

        nxt_val = [Signal.like(v, name=f"nxt_val{i}") for i, v in enumerate(val)]
        nxt_idx = [Signal.like(v, name=f"nxt_idx{i}") for i, v in enumerate(idx)]
        nxt_ok = [Signal(name=f"nxt_ok{i}") for i in range(n)]
        at_or_after_weakest = 0
        for i in range(n):
            at_or_after_weakest = at_or_after_weakest | weakest[i]
            prev_ok = 1 if i == 0 else cur_ok[i - 1]
            append = ~full & ~cur_ok[i] & prev_ok & self.slot_en[i]
            shift = replace & at_or_after_weakest & self.slot_en[i]
            last_used = 1 if i == n - 1 else ~self.slot_en[i + 1]
            take_x = append | (shift & last_used)
            take_next = shift if i < n - 1 else 0
            nxt_next = (val[i + 1], idx[i + 1]) if i < n - 1 else (val[i], idx[i])
            m.d.comb += [nxt_val[i].eq(Mux(take_x, self.x, Mux(take_next, nxt_next[0], val[i]))),
                         nxt_idx[i].eq(Mux(take_x, self.pos, Mux(take_next, nxt_next[1], idx[i]))),
                         nxt_ok[i].eq(take_x | cur_ok[i])]
            m.d.comb += [self.values[i].eq(Mux(nxt_ok[i], nxt_val[i], 0)),
                         self.indices[i].eq(Mux(nxt_ok[i], nxt_idx[i], 0))]
        m.d.comb += self.kept.eq(Cat(*nxt_ok))
        with m.If(self.en):
            m.d.sync += [ok.eq(Cat(*nxt_ok)), *(a.eq(b) for a, b in zip(val + idx, nxt_val + nxt_idx, strict=True))]
        return m
