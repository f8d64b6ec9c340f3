"""The read DMA: loads one tile's operands from memory into the weight and activation scratchpads.

A job (latched at ``go``) is a list of pieces, each a run of whole bus beats at consecutive addresses:
the weight piece (``w_beats`` beats from ``w_addr``: whole weight rows of ``w_row_beats`` beats, row i to
weight row i of bank ``w_bank``), then, when ``a_en``, ``a_pieces`` activation pieces of ``a_beats`` beats,
piece i from ``a_addr + i * a_stride`` (row m0 + i of A) to activation row ``a_base + (i >> lg)`` of bank
``a_bank`` at beat slot ``(i mod G) * a_group_beats`` (its row group's slice). The address side issues
bursts (split at 256 beats and 4 KiB) one per cycle while fewer than ``outstanding`` are in flight; the
data side writes each beat into its scratchpad row slice as it arrives (``rready`` is always high).
``busy`` falls in the cycle after the last beat.

``job`` must hold its value from ``go`` until ``busy`` falls (the loop engine changes it only at its next phase).
Every burst's length is decided from registers: the beats left in the piece, the piece's cap at the burst's
address (`page_cap`) and whether the beats left fit under it, which the DMA keeps for the burst in flight (and
the cap for the next activation piece).
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.hw.control.tile_engine import bank_addr
from nmsat.hw.memory.axi import axi_signature, cap_after, page_cap


def load_layout(p, count_width):
    """A load job. ``has_w`` (``w_beats != 0``) and ``nonempty`` (``has_w`` or an activation piece to load) are
    decided by whoever sets the job, a register ahead of the DMA's ``go``."""
    return data.StructLayout({
        "w_addr": ADDR_WIDTH, "w_beats": count_width, "w_bank": 1,
        "a_en": 1, "a_addr": ADDR_WIDTH, "a_stride": ADDR_WIDTH, "a_pieces": count_width,
        "a_beats": count_width, "a_bank": 1, "a_base": count_width, "lg": p.group_width,
        "a_group_beats": count_width, "mode": p.mode_width, "has_w": 1, "nonempty": 1,
    })


def fits(left_m1, cap):
    """Whether ``left_m1 + 1`` beats fit in one burst of at most ``cap`` beats."""
    return (left_m1 >> 8 == 0) & (left_m1[0:8] < cap)


class ReadDMA(wiring.Component):
    """AXI4 reads of one load job into the scratchpads' write ports (beat-granular write enables)."""

    def __init__(self, params, count_width):
        self.p, self.cw = params, count_width
        p = params
        self.w_blocks = p.w_row_bits // p.bus_bits
        self.a_blocks = p.a_row_bits // p.bus_bits
        super().__init__({
            "go": In(1), "job": In(load_layout(p, count_width)), "busy": Out(1), "busy_next": Out(1),
            "axi": Out(axi_signature(p.bus_bytes)),
            "w_addr": Out(range(2 * p.w_depth)), "w_en": Out(self.w_blocks), "w_data": Out(p.w_row_bits),
            "a_addr": Out(range(2 * p.a_depth)), "a_en": Out(self.a_blocks), "a_data": Out(p.a_row_bits),
        })

    def _latched(self, m):
        """What the job's fields decide for the whole load, latched at ``go``."""
        p, cw, j = self.p, self.cw, self.job
        shape = {"a_beats_m1": cw, "w_row_beats_m1": cw, "groups_m1": range(max(2, p.max_groups))}
        held = Signal(data.StructLayout(shape))
        with m.If(self.go):
            m.d.sync += held.a_beats_m1.eq(j.a_beats - 1)
            with m.Switch(j.mode):
                for k in p.modes:
                    with m.Case(k):
                        m.d.sync += held.w_row_beats_m1.eq(p.w_beats(k) - 1)
            for lg, _ in p.group_levels:
                with m.If(j.lg == lg):
                    m.d.sync += held.groups_m1.eq((1 << lg) - 1)
        return held

    def elaborate(self, platform):
        m = Module()
        p, axi, cw, job, go = self.p, self.axi, self.cw, self.job, self.go
        held = self._latched(m)
        w = job.has_w  # the load starts with the weights
        pieces = Mux(job.a_en, job.a_pieces, 0)
        a1 = job.a_addr + job.a_stride

        # Address side: the piece in flight (address, beats left - 1, its cap at that address, whether the beats
        # left fit under the cap: its last burst), then the next activation piece (address, cap) and the one after
        # it. Piece 0 is the weights, pieces 1.. the rows of A.
        ar_addr, ar_left_m1, ar_cap, ends = Signal(ADDR_WIDTH), Signal(cw), Signal(9), Signal()
        row, row_cap, row2 = Signal(ADDR_WIDTH), Signal(9), Signal(ADDR_WIDTH)
        ar_pieces, ar_active = Signal(cw + 1), Signal()  # pieces after the one in flight
        in_flight = Signal(range(p.outstanding + 1))
        go_left_m1, go_cap, on_left_m1, on_cap = Signal(cw), Signal(9), Signal(cw), Signal(9)
        m.d.comb += [go_left_m1.eq(Mux(w, job.w_beats, job.a_beats) - 1),
                     go_cap.eq(page_cap(Mux(w, job.w_addr, job.a_addr), p.bus_bytes)),
                     on_left_m1.eq(ar_left_m1 - ar_cap), on_cap.eq(cap_after(ar_addr, p.bus_bytes))]
        length_m1 = Mux(ends, ar_left_m1[0:8], ar_cap - 1)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length_m1), axi.arsize.eq(p.bus_bytes.bit_length() - 1),
                     axi.arburst.eq(1), axi.arvalid.eq(ar_active & (in_flight < p.outstanding)),
                     axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        m.d.sync += in_flight.eq(in_flight + ar_fire - (axi.rvalid & axi.rlast))
        with m.If(ar_fire & ends):  # the next row of A, or the end
            m.d.sync += [ar_addr.eq(row), ar_left_m1.eq(held.a_beats_m1), ar_cap.eq(row_cap),
                         ends.eq(fits(held.a_beats_m1, row_cap)),
                         row.eq(row2), row_cap.eq(page_cap(row2, p.bus_bytes)), row2.eq(row2 + job.a_stride),
                         ar_pieces.eq(ar_pieces - 1), ar_active.eq(ar_pieces != 0)]
        with m.Elif(ar_fire):  # the piece goes on where its cap cut it
            m.d.sync += [ar_addr.eq(ar_addr + (ar_cap << (p.bus_bytes.bit_length() - 1))),
                         ar_left_m1.eq(on_left_m1), ar_cap.eq(on_cap), ends.eq(fits(on_left_m1, on_cap))]
        with m.If(go):
            m.d.sync += [ar_addr.eq(Mux(w, job.w_addr, job.a_addr)), ar_left_m1.eq(go_left_m1), ar_cap.eq(go_cap),
                         ends.eq(fits(go_left_m1, go_cap)),
                         row.eq(Mux(w, job.a_addr, a1)), row_cap.eq(page_cap(Mux(w, job.a_addr, a1), p.bus_bytes)),
                         row2.eq(Mux(w, a1, job.a_addr + (job.a_stride << 1))), ar_pieces.eq(pieces - ~w),
                         ar_active.eq(job.nonempty)]

        # Data side: walk the same pieces beat by beat; the write ports' addresses and enables are registers.
        d_w, d_left_m1, d_pieces = Signal(), Signal(cw), Signal(cw + 1)
        w_block, w_row = Signal(range(max(2, self.w_blocks))), Signal(range(2 * p.w_depth))
        a_block, a_slice = Signal(range(max(2, self.a_blocks))), Signal(range(max(2, self.a_blocks)))
        a_group, a_row = Signal(range(max(2, p.max_groups))), Signal(range(2 * p.a_depth))
        beat = axi.rvalid
        m.d.comb += [self.w_addr.eq(w_row), self.a_addr.eq(a_row),
                     self.w_data.eq(axi.rdata.replicate(self.w_blocks)),
                     self.a_data.eq(axi.rdata.replicate(self.a_blocks))]
        for b in range(self.w_blocks):
            m.d.comb += self.w_en[b].eq(beat & d_w & (w_block == b))
        for b in range(self.a_blocks):
            m.d.comb += self.a_en[b].eq(beat & ~d_w & (a_block == b))
        piece_end = d_left_m1 == 0
        with m.If(beat):
            m.d.sync += d_left_m1.eq(d_left_m1 - 1)
            with m.If(d_w):
                m.d.sync += w_block.eq(w_block + 1)
                with m.If(w_block == held.w_row_beats_m1):
                    m.d.sync += [w_block.eq(0), w_row.eq(w_row + 1)]
            with m.Else():
                m.d.sync += a_block.eq(a_block + 1)
            with m.If(piece_end):  # the weights or an activation piece done: the next group slice or row
                m.d.sync += [d_w.eq(0), d_left_m1.eq(held.a_beats_m1), d_pieces.eq(d_pieces - 1)]
                with m.If(~d_w & (a_group == held.groups_m1)):
                    m.d.sync += [a_group.eq(0), a_slice.eq(0), a_block.eq(0), a_row.eq(a_row + 1)]
                with m.Elif(~d_w):
                    nxt = a_slice + job.a_group_beats
                    m.d.sync += [a_group.eq(a_group + 1), a_slice.eq(nxt), a_block.eq(nxt)]
        with m.If(go):
            m.d.sync += [d_w.eq(w), d_left_m1.eq(go_left_m1), d_pieces.eq(pieces - ~w),
                         w_block.eq(0), w_row.eq(bank_addr(job.w_bank, 0, p.w_depth)), a_block.eq(0), a_slice.eq(0),
                         a_group.eq(0), a_row.eq(bank_addr(job.a_bank, job.a_base, p.a_depth))]
        m.d.comb += self.busy_next.eq(Mux(go, job.nonempty, Mux(beat & piece_end, d_pieces != 0, self.busy)))
        m.d.sync += self.busy.eq(self.busy_next)
        return m
