"""The read DMA: loads one tile's operands from memory into the weight and activation scratchpads.

A job (latched at ``go``) is a list of pieces, each a run of whole bus beats at consecutive addresses:
the weight piece (``w_beats`` beats from ``w_addr``: whole weight rows of ``w_row_beats`` beats, row i to
weight row i of bank ``w_bank``), then, when ``a_en``, ``a_pieces`` activation pieces of ``a_beats`` beats,
piece i from ``a_addr + i * a_stride`` (row m0 + i of A) to activation row ``a_base + (i >> lg)`` of bank
``a_bank`` at beat slot ``(i mod G) * a_group_beats`` (its row group's slice). The address side issues
bursts (split at 256 beats and 4 KiB) one per cycle while fewer than ``outstanding`` are in flight; the
data side writes each beat into its scratchpad row slice as it arrives (``rready`` is always high).
``busy`` falls in the cycle after the last beat.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.hw.control.tile_engine import bank_addr
from nmsat.hw.memory.axi import axi_signature, burst_beats


def load_layout(p, count_width):
    """A load job."""
    return data.StructLayout({
        "w_addr": ADDR_WIDTH, "w_beats": count_width, "w_bank": 1,
        "a_en": 1, "a_addr": ADDR_WIDTH, "a_stride": ADDR_WIDTH, "a_pieces": count_width,
        "a_beats": count_width, "a_bank": 1, "a_base": count_width, "lg": p.group_width,
        "a_group_beats": count_width, "mode": p.mode_width,
    })


class ReadDMA(wiring.Component):
    """AXI4 reads of one load job into the scratchpads' write ports (beat-granular write enables)."""

    def __init__(self, params, count_width):
        self.p, self.cw = params, count_width
        p = params
        self.w_blocks = p.w_row_bits // p.bus_bits
        self.a_blocks = p.a_row_bits // p.bus_bits
        super().__init__({
            "go": In(1), "job": In(load_layout(p, count_width)), "busy": Out(1),
            "axi": Out(axi_signature(p.bus_bytes)),
            "w_addr": Out(range(2 * p.w_depth)), "w_en": Out(self.w_blocks), "w_data": Out(p.w_row_bits),
            "a_addr": Out(range(2 * p.a_depth)), "a_en": Out(self.a_blocks), "a_data": Out(p.a_row_bits),
        })

    def elaborate(self, platform):
        m = Module()
        p, axi, cw = self.p, self.axi, self.cw
        job = Signal.like(self.job)
        with m.If(self.go):
            m.d.sync += job.eq(self.job)
        w_row_beats = Signal(range(self.w_blocks + 1))
        with m.Switch(job.mode):
            for k in p.modes:
                with m.Case(k):
                    m.d.comb += w_row_beats.eq(p.w_beats(k))

        # Address side: piece 0 is the weights, pieces 1.. the rows of A.
        ar_piece, ar_addr, ar_left, ar_row = Signal(cw + 1), Signal(ADDR_WIDTH), Signal(cw), Signal(ADDR_WIDTH)
        ar_active = Signal()
        in_flight = Signal(range(p.outstanding + 1))
        length = burst_beats(ar_addr, ar_left, p.bus_bytes)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length - 1), axi.arsize.eq(p.bus_bytes.bit_length() - 1),
                     axi.arburst.eq(1), axi.arvalid.eq(ar_active & (in_flight < p.outstanding)),
                     axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        r_done_burst = axi.rvalid & axi.rlast
        m.d.sync += in_flight.eq(in_flight + ar_fire - r_done_burst)
        pieces = Mux(job.a_en, job.a_pieces, 0) + 1
        with m.If(ar_fire):
            m.d.sync += [ar_addr.eq(ar_addr + (length << (p.bus_bytes.bit_length() - 1))), ar_left.eq(ar_left - length)]
            with m.If(ar_left == length):  # the piece is done: the next row of A, or the end
                nxt = ar_piece + 1
                m.d.sync += [ar_piece.eq(nxt), ar_addr.eq(ar_row), ar_left.eq(job.a_beats),
                             ar_row.eq(ar_row + job.a_stride), ar_active.eq(nxt < pieces)]
        with m.If(self.go):
            j = self.job
            first_active = j.w_beats != 0
            m.d.sync += [ar_piece.eq(Mux(first_active, 0, 1)), ar_addr.eq(Mux(first_active, j.w_addr, j.a_addr)),
                         ar_left.eq(Mux(first_active, j.w_beats, j.a_beats)),
                         ar_row.eq(Mux(first_active, j.a_addr, j.a_addr + j.a_stride)),
                         ar_active.eq(first_active | (j.a_en & (j.a_pieces != 0)))]

        # Data side: walk the same pieces beat by beat.
        d_piece, d_beat, d_row, d_block = Signal(cw + 1), Signal(cw), Signal(cw), Signal(cw)
        d_group, d_group_block = Signal(range(max(2, p.max_groups))), Signal(cw)
        beat = axi.rvalid
        in_w = d_piece == 0
        m.d.comb += [
            self.w_addr.eq(bank_addr(job.w_bank, d_row, p.w_depth)),
            self.a_addr.eq(bank_addr(job.a_bank, job.a_base + d_row, p.a_depth)),
            self.w_data.eq(axi.rdata.replicate(self.w_blocks)),
            self.a_data.eq(axi.rdata.replicate(self.a_blocks)),
        ]
        for b in range(self.w_blocks):
            m.d.comb += self.w_en[b].eq(beat & in_w & (d_block == b))
        for b in range(self.a_blocks):
            m.d.comb += self.a_en[b].eq(beat & ~in_w & (d_group_block + d_block == b))
        last_piece = d_piece == pieces - 1
        with m.If(beat):
            m.d.sync += [d_beat.eq(d_beat + 1), d_block.eq(d_block + 1)]
            with m.If(in_w):
                with m.If(d_block == w_row_beats - 1):
                    m.d.sync += [d_block.eq(0), d_row.eq(d_row + 1)]
                with m.If(d_beat == job.w_beats - 1):  # weights done: activation pieces from row 0
                    m.d.sync += [d_piece.eq(1), d_beat.eq(0), d_block.eq(0), d_row.eq(0), d_group.eq(0),
                                 d_group_block.eq(0), self.busy.eq(~last_piece)]
            with m.Elif(d_beat == job.a_beats - 1):  # an activation piece done: next group slice or row
                m.d.sync += [d_piece.eq(d_piece + 1), d_beat.eq(0), d_block.eq(0), self.busy.eq(~last_piece)]
                last_group = Signal()
                m.d.comb += last_group.eq(d_group == (1 << job.lg) - 1)
                with m.If(last_group):
                    m.d.sync += [d_group.eq(0), d_group_block.eq(0), d_row.eq(d_row + 1)]
                with m.Else():
                    m.d.sync += [d_group.eq(d_group + 1), d_group_block.eq(d_group_block + job.a_group_beats)]
        with m.If(self.go):
            j = self.job
            w_first = j.w_beats != 0
            m.d.sync += [d_piece.eq(Mux(w_first, 0, 1)), d_beat.eq(0), d_row.eq(0), d_block.eq(0), d_group.eq(0),
                         d_group_block.eq(0), self.busy.eq(w_first | (j.a_en & (j.a_pieces != 0)))]
        return m
