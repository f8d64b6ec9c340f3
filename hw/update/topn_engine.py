"""The top-N pre-generation engine: dense fp32 master weights in memory -> one N:M operand in weight rows.

One descriptor (`topn_descriptor_layout`) is one pass (FF, or BP with ``transpose``); the models are
`nmsat.sim.topn_engine` (image and cycles). Rows (block ``nb`` > window ``s``) go through three overlapping
parts: the address side (a setup cycle per row, allowed while fewer than two rows are read and not packed;
then one burst per cycle: one piece per column, FF, or per reduction element, BP, pieces ``src_stride``
apart, split at 256 beats and 4 KiB); the data side (every beat into its row's bank of two ``C x E_max``
fp32 register buffers; a piece may start inside a beat); the packer (once a row is in and the writer is
free: the selection, i.e. rank of each element among its group of m by the key below, kept if rank < n,
kept elements in ascending position, and the bf16 rounding, combinational into the output row register;
the bank is cleared, so a ragged edge reads as zeros). The writer stores a row as ``WB`` one-beat bursts,
one per cycle. ``done`` is high for one cycle once the last write response is in.

Sort key of an fp32 value: ``0`` for a NaN, else ``(bits & 0x7FFFFFFF) + 1``.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.errors import NmsatError
from nmsat.hw.memory.axi import axi_signature, burst_beats
from nmsat.sim.topn_engine import FP32_BYTES, train_params

COUNT_WIDTH = 16
_COUNTS = ("n_blocks", "last_cols", "windows", "last_elems")
_ADDRS = ("src_base", "src_stride", "dst_base", "dst_stride")


def topn_descriptor_layout(p):
    """LSB first: mode, transpose, the counts (16 bits), the byte addresses and strides (32 bits)."""
    fields = {"mode": p.mode_width, "transpose": 1}
    fields.update({k: COUNT_WIDTH for k in _COUNTS})
    fields.update({k: ADDR_WIDTH for k in _ADDRS})
    return data.StructLayout(fields)


def check_topn_params(p):
    """`NmsatError` for a bus the engine does not build: whole fp32 lanes."""
    if p.bus_bytes < FP32_BYTES:
        raise NmsatError(f"top-N engine: bus_bytes = {p.bus_bytes} holds no fp32 value")


def topn_outstanding(p):
    """Read bursts the engine keeps in flight: two rows of pieces, each split at most once at 4 KiB."""
    return max(p.outstanding, 4 * max(p.cols, p.e_max))


def bf16_round(u):
    """bf16 bits of fp32 bits `u`: round to nearest even; a NaN keeps sign and top payload, made quiet."""
    nan = (u[23:31] == 255) & (u[:23] != 0)
    return Mux(nan, u[16:32] | 0x40, (u + 0x7FFF + u[16])[16:32])


def sort_key(u):
    nan = (u[23:31] == 255) & (u[:23] != 0)
    return Mux(nan, 0, u[:31] + 1)


def kept_bits(m, keys, n, name):
    """Kept flags of one group of sort `keys`: rank (keys larger, or equal at a lower position) below n."""
    size = len(keys)
    kept = []
    for i in range(size):
        beaten = [(keys[j] > keys[i]) | ((keys[j] == keys[i]) if j < i else Const(0)) for j in range(size) if j != i]
        rank = Signal(range(size), name=f"{name}_r{i}")
        m.d.comb += rank.eq(sum(beaten))
        kept.append(rank < n)
    return kept


def _select(m, values, n, name):
    """(kept values, their in-group positions) of one group: the n largest keys, ascending position."""
    size = len(values)
    keys = [Signal(32, name=f"{name}_k{i}") for i in range(size)]
    m.d.comb += [k.eq(sort_key(v)) for k, v in zip(keys, values, strict=True)]
    kept = kept_bits(m, keys, n, name)
    out_v, out_i = [], []
    for t in range(n):
        v, ix = Signal(32, name=f"{name}_v{t}"), Signal(range(max(2, size)), name=f"{name}_i{t}")
        hits = []
        for i in range(size):
            before = sum(kept[:i]) if i else Const(0)
            hits.append(kept[i] & (before == t))
        m.d.comb += v.eq(_or([Mux(h, values[i], 0) for i, h in enumerate(hits)]))
        m.d.comb += ix.eq(_or([Mux(h, i, 0) for i, h in enumerate(hits)]))
        out_v.append(v)
        out_i.append(ix)
    return out_v, out_i


def _or(terms):
    """OR of `terms` (one-hot selections)."""
    out = terms[0]
    for t in terms[1:]:
        out = out | t
    return out


class TopNEngine(wiring.Component):
    """``desc`` (valid/ready) in, an AXI4 manager port, ``done`` high for one cycle at the end."""

    def __init__(self, params):
        check_topn_params(params)
        self.p = params
        # Read bursts in flight: enough for two rows (one row is read ahead), so the limit never binds.
        self.outstanding = topn_outstanding(params)
        super().__init__({
            "desc": In(stream.Signature(topn_descriptor_layout(params))),
            "axi": Out(axi_signature(params.bus_bytes)),
            "done": Out(1),
        })

    def _pack(self, m, buf, mode):
        """The weight row image (WB*BW bits) of `buf` ([C][E_max] fp32 signals) in `mode`."""
        p, tp = self.p, train_params(self.p)
        values, indices = [], []
        for c in range(p.cols):
            if mode == 0:
                values += [bf16_round(buf[c][j]) for j in range(p.mults)]
                continue
            pat = p.patterns[mode - 1]
            for g in range(p.mults // pat.n):
                v, ix = _select(m, buf[c][g * pat.m:(g + 1) * pat.m], pat.n, f"sel{mode}_c{c}_g{g}")
                values += [bf16_round(x) for x in v]
                indices += [x[:p.idx_width] for x in ix]
        fields = [x[:16] for x in values] + [Const(0, p.idx_width) | x for x in indices]
        bits = Cat(*fields)
        return Cat(bits, Const(0, tp.w_beats(mode) * p.bus_bits - len(bits)))

    def elaborate(self, platform):
        m = Module()
        p, tp, axi = self.p, train_params(self.p), self.axi
        bb, shift, cw = p.bus_bytes, p.bus_bytes.bit_length() - 1, COUNT_WIDTH
        fv, shift_fv = bb // FP32_BYTES, (bb // FP32_BYTES).bit_length() - 1
        e_max, wb_max = p.e_max, max(tp.w_beats(k) for k in p.modes)

        d = Signal(topn_descriptor_layout(p))
        busy, finished = Signal(), Signal()
        m.d.comb += self.desc.ready.eq(~busy)
        accept = self.desc.valid & ~busy
        v = self.desc.payload

        e_mode, wb_mode = Signal(range(e_max + 1)), Signal(range(wb_max + 1))
        win_step, blk_step = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        with m.Switch(d.mode):
            for k in p.modes:
                with m.Case(k):
                    e = p.window(k)
                    m.d.comb += [e_mode.eq(e), wb_mode.eq(tp.w_beats(k)),
                                 win_step.eq(Mux(d.transpose, d.src_stride * e, e * FP32_BYTES))]
        m.d.comb += blk_step.eq(Mux(d.transpose, p.cols * FP32_BYTES, d.src_stride * p.cols))

        def walker(name):
            """Counters of one walk over the rows (block > window) and the row's geometry."""
            nb, s = Signal(cw, name=f"{name}_nb"), Signal(cw, name=f"{name}_s")
            blk, win = Signal(ADDR_WIDTH, name=f"{name}_blk"), Signal(ADDR_WIDTH, name=f"{name}_win")
            last_blk, last_win = nb == d.n_blocks - 1, s == d.windows - 1
            cols = Mux(last_blk, d.last_cols, p.cols)
            elems = Mux(last_win, d.last_elems, e_mode)
            valid = Mux(d.transpose, cols, elems)
            first = win[2:shift] if fv > 1 else Const(0, 1)
            geo = {"pieces": Mux(d.transpose, elems, cols), "valid": valid, "first": first,
                   "beats": (first + valid + fv - 1) >> shift_fv, "win": win, "last": last_blk & last_win}

            def advance():
                with m.If(last_win):
                    m.d.sync += [nb.eq(nb + 1), s.eq(0), blk.eq(blk + blk_step), win.eq(blk + blk_step)]
                with m.Else():
                    m.d.sync += [s.eq(s + 1), win.eq(win + win_step)]

            def reset():
                m.d.sync += [nb.eq(0), s.eq(0), blk.eq(v.src_base), win.eq(v.src_base)]
            return geo, advance, reset

        rows_issued, rows_packed = Signal(32), Signal(32)

        # Address side: runs up to one row ahead of the packer (two buffer banks).
        ga, advance_a, reset_a = walker("a")
        a_setup, a_issue = Signal(), Signal()
        ar_piece, ar_addr, ar_left, piece_addr = Signal(cw), Signal(ADDR_WIDTH), Signal(cw), Signal(ADDR_WIDTH)
        a_pieces, a_beats = Signal(cw), Signal(cw)
        in_flight = Signal(range(self.outstanding + 1))
        length = burst_beats(ar_addr, ar_left, bb)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length - 1), axi.arsize.eq(shift), axi.arburst.eq(1),
                     axi.arvalid.eq(a_issue & (in_flight < self.outstanding)), axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        m.d.sync += in_flight.eq(in_flight + ar_fire - (axi.rvalid & axi.rlast))
        with m.If(a_setup & (rows_issued - rows_packed < 2)):
            start = ga["win"] & ~(bb - 1)
            m.d.sync += [a_setup.eq(0), a_issue.eq(1), a_pieces.eq(ga["pieces"]), a_beats.eq(ga["beats"]),
                         ar_piece.eq(0), ar_addr.eq(start), piece_addr.eq(start), ar_left.eq(ga["beats"])]
        with m.If(ar_fire):
            m.d.sync += [ar_addr.eq(ar_addr + (length << shift)), ar_left.eq(ar_left - length)]
            with m.If(ar_left == length):
                m.d.sync += [ar_piece.eq(ar_piece + 1), piece_addr.eq(piece_addr + d.src_stride),
                             ar_addr.eq(piece_addr + d.src_stride), ar_left.eq(a_beats)]
                with m.If(ar_piece == a_pieces - 1):  # the row's last burst
                    m.d.sync += [a_issue.eq(0), a_setup.eq(~ga["last"]), rows_issued.eq(rows_issued + 1)]
                    advance_a()

        # Data side: each beat into its row's bank.
        gd, advance_d, reset_d = walker("d")
        bufs = [[[Signal(32, name=f"buf{b}_{c}_{e}") for e in range(e_max)] for c in range(p.cols)] for b in range(2)]
        full = Signal(2)
        d_piece, d_beat, d_bank = Signal(cw), Signal(cw), Signal()
        for c in range(p.cols):
            for e in range(e_max):
                at = Mux(d.transpose, c, e) + gd["first"]  # fp32 position within the piece's beats
                hit = (d_piece == Mux(d.transpose, e, c)) & (d_beat == (at >> shift_fv)) & \
                    (Mux(d.transpose, c, e) < gd["valid"])
                for b in range(2):
                    with m.If(axi.rvalid & hit & (d_bank == b)):
                        m.d.sync += bufs[b][c][e].eq(axi.rdata.word_select(at[:shift_fv] if fv > 1 else 0, 32))
        with m.If(axi.rvalid):
            m.d.sync += d_beat.eq(d_beat + 1)
            with m.If(d_beat == gd["beats"] - 1):
                m.d.sync += [d_beat.eq(0), d_piece.eq(d_piece + 1)]
                with m.If(d_piece == gd["pieces"] - 1):
                    m.d.sync += [d_piece.eq(0), d_bank.eq(~d_bank), full.bit_select(d_bank, 1).eq(1)]
                    advance_d()

        # Writer: the packed row, WB one-beat bursts.
        out_reg = Signal(wb_max * p.bus_bits)
        w_busy, w_beat, w_last, w_addr = Signal(), Signal(range(wb_max + 1)), Signal(range(wb_max + 1)), \
            Signal(ADDR_WIDTH)
        aw_done, w_done = Signal(), Signal()
        responses = Signal(range(2 * (p.write_latency + 4)))
        beat_data = Signal(p.bus_bits)
        m.d.comb += beat_data.eq(out_reg[:p.bus_bits])
        for b in range(1, wb_max):
            with m.If(w_beat == b):
                m.d.comb += beat_data.eq(out_reg[b * p.bus_bits:(b + 1) * p.bus_bits])
        m.d.comb += [axi.awaddr.eq(w_addr), axi.awlen.eq(0), axi.awsize.eq(shift), axi.awburst.eq(1),
                     axi.awvalid.eq(w_busy & ~aw_done), axi.wdata.eq(beat_data),
                     axi.wstrb.eq((1 << bb) - 1), axi.wlast.eq(1), axi.wvalid.eq(w_busy & ~w_done),
                     axi.bready.eq(1)]
        aw_fire, w_fire = axi.awvalid & axi.awready, axi.wvalid & axi.wready
        m.d.sync += responses.eq(responses + aw_fire - axi.bvalid)
        with m.If((aw_done | aw_fire) & (w_done | w_fire)):
            m.d.sync += [aw_done.eq(0), w_done.eq(0), w_beat.eq(w_beat + 1), w_addr.eq(w_addr + bb)]
            with m.If(w_beat == w_last):
                m.d.sync += w_busy.eq(0)
        with m.Else():
            m.d.sync += [aw_done.eq(aw_done | aw_fire), w_done.eq(w_done | w_fire)]

        # Packer: a full bank, once the writer is free, into the output register; the bank is cleared.
        p_bank, p_nb, p_s = Signal(), Signal(cw), Signal(cw)
        dst_blk, dst_row = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        chosen = [[Mux(p_bank, bufs[1][c][e], bufs[0][c][e]) for e in range(e_max)] for c in range(p.cols)]
        packed = Signal(wb_max * p.bus_bits)
        with m.Switch(d.mode):
            for k in p.modes:
                with m.Case(k):
                    m.d.comb += packed.eq(self._pack(m, chosen, k))
        with m.If(busy & ~finished & full.bit_select(p_bank, 1) & ~w_busy):
            m.d.sync += [out_reg.eq(packed), w_busy.eq(1), w_beat.eq(0), w_last.eq(wb_mode - 1), w_addr.eq(dst_row),
                         aw_done.eq(0), w_done.eq(0), p_bank.eq(~p_bank), full.bit_select(p_bank, 1).eq(0),
                         rows_packed.eq(rows_packed + 1)]
            for b in range(2):
                with m.If(p_bank == b):
                    m.d.sync += [x.eq(0) for col in bufs[b] for x in col]
            with m.If(p_s == d.windows - 1):
                m.d.sync += [p_nb.eq(p_nb + 1), p_s.eq(0), dst_blk.eq(dst_blk + d.dst_stride),
                             dst_row.eq(dst_blk + d.dst_stride), finished.eq(p_nb == d.n_blocks - 1)]
            with m.Else():
                m.d.sync += [p_s.eq(p_s + 1), dst_row.eq(dst_row + wb_mode * bb)]

        m.d.comb += self.done.eq(busy & finished & ~w_busy & (responses == 0))
        with m.If(self.done):
            m.d.sync += busy.eq(0)
        with m.If(accept):
            m.d.sync += [d.eq(v), busy.eq(1), finished.eq(0), a_setup.eq(1), a_issue.eq(0), rows_issued.eq(0),
                         rows_packed.eq(0), d_piece.eq(0), d_beat.eq(0), d_bank.eq(0), full.eq(0), p_bank.eq(0),
                         p_nb.eq(0), p_s.eq(0), dst_blk.eq(v.dst_base), dst_row.eq(v.dst_base)]
            m.d.sync += [x.eq(0) for bank in bufs for col in bank for x in col]
            reset_a()
            reset_d()
        return m
