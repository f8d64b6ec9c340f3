"""The top-N pre-generation engine: dense fp32 master weights in memory -> one N:M operand in weight rows.

One descriptor (`topn_descriptor_layout`) is one pass (FF, or BP with ``transpose``); the models are
`nmsat.sim.topn_engine` (image and cycles). Per weight row (block ``nb`` > window ``s``): a ROW cycle, then
READ: one piece per column (FF: ``valid = elems`` fp32 along K, ``ceil(elems*4/BB)`` beats) or per reduction
element (BP: ``valid = cols`` fp32 along N), pieces ``src_stride`` apart, bursts split at 256 beats and
4 KiB, one address per cycle while fewer than `outstanding` bursts are in flight; every beat is written
into a ``C x E_max`` fp32 register buffer (cleared in ROW, so the ragged edge reads as zeros); then PACK:
the selection (rank of each element among its group of m by the key below, kept if rank < n, kept
elements in ascending position) and the bf16 rounding are combinational into the output row register,
which the writer stores (``WB`` one-beat bursts, one per cycle) while the next row is read. PACK waits
for the previous row's writer. ``done`` is high for one cycle once the last write response is in.

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
        fv = bb // FP32_BYTES
        e_max, wb_max = p.e_max, max(tp.w_beats(k) for k in p.modes)

        d = Signal(topn_descriptor_layout(p))
        idle, row, read, pack, finish = range(5)
        state = Signal(range(5))
        m.d.comb += self.desc.ready.eq(state == idle)

        # Geometry of the current row (block nb, window s).
        nb, s = Signal(cw), Signal(cw)
        e_mode, wb_mode = Signal(range(e_max + 1)), Signal(range(wb_max + 1))
        win_step, blk_step = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        with m.Switch(d.mode):
            for k in p.modes:
                with m.Case(k):
                    e = p.window(k)
                    m.d.comb += [e_mode.eq(e), wb_mode.eq(tp.w_beats(k)),
                                 win_step.eq(Mux(d.transpose, d.src_stride * e, e * FP32_BYTES))]
        m.d.comb += blk_step.eq(Mux(d.transpose, p.cols * FP32_BYTES, d.src_stride * p.cols))
        last_blk, last_win = nb == d.n_blocks - 1, s == d.windows - 1
        cols = Mux(last_blk, d.last_cols, p.cols)
        elems = Mux(last_win, d.last_elems, e_mode)
        blk_addr, win_addr, dst_blk, dst_row = (Signal(ADDR_WIDTH, name=n) for n in
                                                ("blk_addr", "win_addr", "dst_blk", "dst_row"))
        r_pieces, r_valid, r_beats = Signal(cw), Signal(cw), Signal(cw)
        lane0 = Signal(range(fv))  # lane of a piece's first fp32 in its first beat (pieces share it)

        # Read: address side.
        ar_active, ar_piece, ar_addr, ar_left, piece_addr = Signal(), Signal(cw), Signal(ADDR_WIDTH), Signal(cw), \
            Signal(ADDR_WIDTH)
        in_flight = Signal(range(p.outstanding + 1))
        length = burst_beats(ar_addr, ar_left, bb)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length - 1), axi.arsize.eq(shift), axi.arburst.eq(1),
                     axi.arvalid.eq(ar_active & (in_flight < p.outstanding)), axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        m.d.sync += in_flight.eq(in_flight + ar_fire - (axi.rvalid & axi.rlast))
        with m.If(ar_fire):
            m.d.sync += [ar_addr.eq(ar_addr + (length << shift)), ar_left.eq(ar_left - length)]
            with m.If(ar_left == length):
                m.d.sync += [ar_piece.eq(ar_piece + 1), piece_addr.eq(piece_addr + d.src_stride),
                             ar_addr.eq(piece_addr + d.src_stride), ar_left.eq(r_beats),
                             ar_active.eq(ar_piece + 1 < r_pieces)]

        # Read: data side, into the buffer.
        buf = [[Signal(32, name=f"buf_{c}_{e}") for e in range(e_max)] for c in range(p.cols)]
        d_piece, d_beat = Signal(cw), Signal(cw)
        shift_fv = fv.bit_length() - 1
        for c in range(p.cols):
            for e in range(e_max):
                at = Mux(d.transpose, c, e) + lane0  # fp32 position within the piece's beats
                hit = (d_piece == Mux(d.transpose, e, c)) & (d_beat == (at >> shift_fv)) & \
                    (Mux(d.transpose, c, e) < r_valid)
                with m.If(axi.rvalid & hit):
                    m.d.sync += buf[c][e].eq(axi.rdata.word_select(at[:shift_fv] if fv > 1 else 0, 32))
        with m.If(axi.rvalid):
            m.d.sync += d_beat.eq(d_beat + 1)
            with m.If(d_beat == r_beats - 1):
                m.d.sync += [d_beat.eq(0), d_piece.eq(d_piece + 1)]
                with m.If(d_piece == r_pieces - 1):
                    m.d.sync += state.eq(pack)

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
        beat_done = (aw_done | aw_fire) & (w_done | w_fire)
        with m.If(beat_done):
            m.d.sync += [aw_done.eq(0), w_done.eq(0), w_beat.eq(w_beat + 1), w_addr.eq(w_addr + bb)]
            with m.If(w_beat == w_last):
                m.d.sync += w_busy.eq(0)
        with m.Else():
            m.d.sync += [aw_done.eq(aw_done | aw_fire), w_done.eq(w_done | w_fire)]

        packed = Signal(wb_max * p.bus_bits)
        with m.Switch(d.mode):
            for k in p.modes:
                with m.Case(k):
                    img = self._pack(m, buf, k)
                    m.d.comb += packed.eq(img)

        m.d.comb += self.done.eq((state == finish) & ~w_busy & (responses == 0))
        with m.Switch(state):
            with m.Case(idle):
                with m.If(self.desc.valid):
                    v = self.desc.payload
                    m.d.sync += [d.eq(v), nb.eq(0), s.eq(0), blk_addr.eq(v.src_base), win_addr.eq(v.src_base),
                                 dst_blk.eq(v.dst_base), dst_row.eq(v.dst_base), state.eq(row)]
            with m.Case(row):
                pieces = Mux(d.transpose, elems, cols)
                valid = Mux(d.transpose, cols, elems)
                first = win_addr[2:shift] if fv > 1 else 0
                beats = (first + valid + fv - 1) >> shift_fv
                start = win_addr & ~(bb - 1)
                m.d.sync += [r_pieces.eq(pieces), r_valid.eq(valid), r_beats.eq(beats), lane0.eq(first),
                             ar_active.eq(1), ar_piece.eq(0), ar_addr.eq(start), ar_left.eq(beats),
                             piece_addr.eq(start), d_piece.eq(0), d_beat.eq(0), state.eq(read)]
                m.d.sync += [x.eq(0) for col in buf for x in col]
            with m.Case(pack):
                with m.If(~w_busy):
                    m.d.sync += [out_reg.eq(packed), w_busy.eq(1), w_beat.eq(0), w_last.eq(wb_mode - 1),
                                 w_addr.eq(dst_row), aw_done.eq(0), w_done.eq(0)]
                    with m.If(last_win):
                        m.d.sync += [nb.eq(nb + 1), s.eq(0), blk_addr.eq(blk_addr + blk_step),
                                     win_addr.eq(blk_addr + blk_step), dst_blk.eq(dst_blk + d.dst_stride),
                                     dst_row.eq(dst_blk + d.dst_stride),
                                     state.eq(Mux(last_blk, finish, row))]
                    with m.Else():
                        m.d.sync += [s.eq(s + 1), win_addr.eq(win_addr + win_step),
                                     dst_row.eq(dst_row + wb_mode * bb), state.eq(row)]
            with m.Case(finish):
                with m.If(self.done):
                    m.d.sync += state.eq(idle)
        return m
