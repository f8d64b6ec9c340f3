"""The write DMA: stores one output tile from an output scratchpad bank to memory.

A job (latched at ``go``) has ``pieces`` rows of Y: piece i is slot ``i mod G`` of output row ``i >> lg``
of bank ``o_bank``, written as ``y_beats`` beats (C accumulators) to ``y_addr + i * y_stride``, with the
byte strobes of columns ``>= cols`` low. Each slot's read port has its own address (``o_addr[g]``): the row
of the slot's next piece, set at ``go`` (row 0) and in the cycle of the slot's piece's last beat (one row on).
The ports are always enabled, so a slot's row is read every cycle before and during its piece. A burst's
address goes out with its first beat (split at 256 beats and 4 KiB). Write responses are counted; ``busy``
falls in the cycle after the last beat and ``pending`` stays high until every response is in.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.hw.control.tile_engine import bank_addr
from nmsat.hw.layouts import out_slot_layout
from nmsat.hw.memory.axi import axi_signature, cap_after, page_cap


def store_layout(p, count_width):
    """A store job."""
    return data.StructLayout({"o_bank": 1, "y_addr": ADDR_WIDTH, "y_stride": ADDR_WIDTH,
                              "pieces": count_width, "cols": count_width, "lg": p.group_width})


class WriteDMA(wiring.Component):
    """AXI4 writes of one store job from the output scratchpad slots' second read ports."""

    def __init__(self, params, count_width):
        self.p, self.cw = params, count_width
        p = params
        super().__init__({
            "go": In(1), "job": In(store_layout(p, count_width)), "busy": Out(1), "busy_next": Out(1),
            "pending": Out(1),
            "axi": Out(axi_signature(p.bus_bytes)),
            "o_addr": Out(data.ArrayLayout(range(2 * p.o_depth), p.max_groups)),
            "o_data": In(data.ArrayLayout(out_slot_layout(p), p.max_groups)),
        })

    def elaborate(self, platform):
        m = Module()
        p, axi, cw, j = self.p, self.axi, self.cw, self.job
        bus, shift = p.bus_bits, p.bus_bytes.bit_length() - 1
        groups = range(max(2, p.max_groups))
        # The piece being sent: its beat, beats left, address and that address's `page_cap`; its group; the next
        # piece's address (with its cap) and the pieces after this one.
        beat, left, addr, cap = Signal(range(max(2, p.y_beats))), Signal(range(p.y_beats + 1)), Signal(ADDR_WIDTH), \
            Signal(9)
        group, groups_m1 = Signal(groups), Signal(groups)
        row_addr, row_cap, stride = Signal(ADDR_WIDTH), Signal(9), Signal(ADDR_WIDTH)
        pieces_left, cols = Signal(cw), Signal(range(p.cols + 1))
        aw_sent, sending = Signal(), Signal()
        responses = Signal(range(2 * (p.write_latency + 4)))

        slot = Signal(out_slot_layout(p))
        m.d.comb += slot.eq(self.o_data[0])
        for g in range(1, p.max_groups):
            with m.If(group == g):
                m.d.comb += slot.eq(self.o_data[g])
        per_beat = bus // p.acc_width
        strobes = []
        for i in range(per_beat):
            col = Cat(Const(i, range(per_beat)), beat) if per_beat > 1 else beat  # beat * per_beat + i
            strobes.append((col < cols).replicate(p.acc_width // 8))
        words = [slot.as_value()[b * bus:(b + 1) * bus] for b in range(p.y_beats)]
        data_beat = Signal(bus)
        m.d.comb += data_beat.eq(words[0])
        for b in range(1, p.y_beats):
            with m.If(beat == b):
                m.d.comb += data_beat.eq(words[b])

        length = Mux(left <= cap, left, cap)
        burst_end = Signal.like(beat)  # beat (within the piece) that ends the current burst
        m.d.comb += [
            axi.awaddr.eq(addr), axi.awlen.eq(length - 1), axi.awsize.eq(shift), axi.awburst.eq(1),
            axi.awvalid.eq(sending & ~aw_sent),
            axi.wdata.eq(data_beat), axi.wstrb.eq(Cat(*strobes)), axi.wvalid.eq(sending),
            axi.wlast.eq(Mux(aw_sent, beat == burst_end, length == 1)), axi.bready.eq(1),
        ]
        aw_fire, w_fire = axi.awvalid & axi.awready, axi.wvalid & axi.wready
        m.d.sync += responses.eq(responses + aw_fire - (axi.bvalid & axi.bready))
        m.d.comb += self.pending.eq(self.busy | (responses != 0))
        with m.If(aw_fire):
            m.d.sync += [aw_sent.eq(1), burst_end.eq(beat + length - 1), addr.eq(addr + (length << shift)),
                         left.eq(left - length), cap.eq(cap_after(addr, p.bus_bytes))]
        piece_done = w_fire & (beat == p.y_beats - 1)
        more = pieces_left != 0
        # Each slot's read address is a register of its own (the row of its next piece), so that an address bit
        # fans out to one slot memory, not all of them; its data register needs no enable.
        for g in range(p.max_groups):
            held = Signal.like(self.o_addr[g], name=f"slot{g}_held")
            m.d.comb += self.o_addr[g].eq(Mux(self.go, bank_addr(j.o_bank, 0, p.o_depth),
                                              Mux(piece_done & (group == g), held + 1, held)))
            m.d.sync += held.eq(self.o_addr[g])
        with m.If(w_fire):
            m.d.sync += beat.eq(beat + 1)
            with m.If(axi.wlast):
                m.d.sync += aw_sent.eq(0)
        with m.If(piece_done):
            m.d.sync += [beat.eq(0), addr.eq(row_addr), cap.eq(row_cap), left.eq(p.y_beats),
                         row_addr.eq(row_addr + stride), row_cap.eq(page_cap(row_addr + stride, p.bus_bytes)),
                         pieces_left.eq(pieces_left - 1), group.eq(Mux(group == groups_m1, 0, group + 1)),
                         sending.eq(0), aw_sent.eq(0)]
            with m.If(more):
                m.d.sync += sending.eq(1)
        with m.If(self.go):
            second = j.y_addr + j.y_stride
            m.d.sync += [beat.eq(0), addr.eq(j.y_addr), cap.eq(page_cap(j.y_addr, p.bus_bytes)), left.eq(p.y_beats),
                         row_addr.eq(second), row_cap.eq(page_cap(second, p.bus_bytes)), pieces_left.eq(j.pieces - 1),
                         group.eq(0), stride.eq(j.y_stride),
                         cols.eq(Mux(j.cols >= p.cols, p.cols, j.cols)), aw_sent.eq(0), sending.eq(1)]
            for lg, _ in p.group_levels:
                with m.If(j.lg == lg):
                    m.d.sync += groups_m1.eq((1 << lg) - 1)
        m.d.comb += self.busy_next.eq(self.go | (self.busy & ~(piece_done & ~more)))
        m.d.sync += self.busy.eq(self.busy_next)
        return m
