"""The weight-update engine: fp32 SGD with momentum, weight decay and the SR-STE term, memory to memory.

One descriptor (`update_descriptor_layout`) updates ``W[rows, cols]`` and its momentum ``V`` from the WG
GEMM's result ``G`` (each row-major with its own stride), bit-exact to `nmsat.sim.update_engine`
(`update_reference`, `update_engine_cycles`). Rows are cut into chunks of up to `chunk` beats (``BB/4``
fp32 lanes each). Per chunk: a ROW cycle; READ: the G piece, the W piece, the V piece (bursts split at 256
beats and 4 KiB, one address per cycle); G and W beats are buffered, each V beat goes through the
6-stage fp32 pipeline (`nmsat.sim.update_engine` lists the operations) with the chunk's SR-STE mask, which
is computed combinationally from the buffered W (`nmsat.nm` selection, elements past ``cols`` sort as
padding); the results fill one of two output banks; then HAND: the writer stores W' then V' of the chunk
(one-beat bursts, one per cycle, strobes low past ``cols``) while the next chunk is read. HAND waits for the
previous chunk's writer. ``done`` is high for one cycle once the last write response is in.
"""

from amaranth import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.errors import NmsatError
from nmsat.hw.memory.axi import axi_signature, burst_beats
from nmsat.hw.update.fp32 import fp32_add, fp32_mul
from nmsat.hw.update.topn_engine import COUNT_WIDTH, kept_bits, sort_key
from nmsat.sim.update_engine import CHUNK_BEATS, FP32_BYTES

_ADDRS = ("g_base", "g_stride", "w_base", "w_stride", "v_base", "v_stride")
_SCALARS = ("decay", "wd", "mu", "neg_lr")


def update_descriptor_layout(p):
    """LSB first: mode (SR-STE pattern, 0 none), first, rows, cols (16 bits), the byte addresses and strides
    (32 bits), the fp32 hyper-parameters (32 bits)."""
    fields = {"mode": p.mode_width, "first": 1, "rows": COUNT_WIDTH, "cols": COUNT_WIDTH}
    fields.update({k: ADDR_WIDTH for k in _ADDRS + _SCALARS})
    return data.StructLayout(fields)


class UpdateEngine(wiring.Component):
    """``desc`` (valid/ready) in, an AXI4 manager port, ``done`` high for one cycle at the end."""

    def __init__(self, params, chunk=CHUNK_BEATS):
        fv = params.bus_bytes // FP32_BYTES
        if fv < 1 or not 1 <= chunk <= 256 or any((chunk * fv) % pat.m for pat in params.patterns):
            raise NmsatError(f"update engine: chunk = {chunk} beats of {fv} fp32 must be 1..256 and hold whole "
                             f"groups of every pattern's m")
        self.p, self.chunk = params, chunk
        super().__init__({
            "desc": In(stream.Signature(update_descriptor_layout(params))),
            "axi": Out(axi_signature(params.bus_bytes)),
            "done": Out(1),
        })

    def _mask(self, m, d, wbuf, elem0):
        """Kept flags ``[chunk * fv]`` of the buffered W under the descriptor's pattern (all 1 in mode 0)."""
        p, fv, ch = self.p, self.p.bus_bytes // FP32_BYTES, self.chunk
        vals = [wbuf[i][32 * j:32 * (j + 1)] for i in range(ch) for j in range(fv)]
        keys = []
        for e, v in enumerate(vals):
            k = Signal(32, name=f"mkey{e}")
            m.d.comb += k.eq(Mux(elem0 + e < d.cols, sort_key(v), 1))  # past the row: padding
            keys.append(k)
        mask = Signal(ch * fv)
        m.d.comb += mask.eq(-1)
        with m.Switch(d.mode):
            for k, pat in enumerate(p.patterns, start=1):
                with m.Case(k):
                    bits = []
                    for g in range(ch * fv // pat.m):
                        bits += kept_bits(m, keys[g * pat.m:(g + 1) * pat.m], pat.n, f"mask{k}_g{g}")
                    m.d.comb += mask.eq(Cat(*bits))
        return mask

    def elaborate(self, platform):
        m = Module()
        p, axi, ch = self.p, self.axi, self.chunk
        bb, shift, cw, bits = p.bus_bytes, p.bus_bytes.bit_length() - 1, COUNT_WIDTH, p.bus_bits
        fv = bb // FP32_BYTES

        d = Signal(update_descriptor_layout(p))
        idle, row, read, hand, finish = range(5)
        state = Signal(range(5))
        m.d.comb += self.desc.ready.eq(state == idle)

        # Position: row n, chunk offset (beats) within the row.
        n, off = Signal(cw), Signal(cw)
        row_beats = (d.cols + fv - 1) >> (fv.bit_length() - 1)
        rem = row_beats - off
        cb_now = Mux(rem > ch, ch, rem)
        last_chunk = rem <= ch
        g_row, w_row, v_row = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        cb = Signal(range(ch + 1))  # beats of the chunk being read
        byte_off = off << shift

        # Read: address side, pieces G, W, V.
        ar_active, ar_piece, ar_addr, ar_left = Signal(), Signal(2), Signal(ADDR_WIDTH), Signal(cw)
        in_flight = Signal(range(p.outstanding + 1))
        length = burst_beats(ar_addr, ar_left, bb)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length - 1), axi.arsize.eq(shift), axi.arburst.eq(1),
                     axi.arvalid.eq(ar_active & (in_flight < p.outstanding)), axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        m.d.sync += in_flight.eq(in_flight + ar_fire - (axi.rvalid & axi.rlast))
        with m.If(ar_fire):
            m.d.sync += [ar_addr.eq(ar_addr + (length << shift)), ar_left.eq(ar_left - length)]
            with m.If(ar_left == length):
                m.d.sync += [ar_piece.eq(ar_piece + 1), ar_left.eq(cb), ar_active.eq(ar_piece != 2),
                             ar_addr.eq(Mux(ar_piece == 0, w_row, v_row) + byte_off)]

        # Read: data side.
        gbuf = Array(Signal(bits, name=f"gbuf{i}") for i in range(ch))
        wbuf = Array(Signal(bits, name=f"wbuf{i}") for i in range(ch))
        d_piece, d_beat = Signal(2), Signal(range(ch + 1))
        compute = axi.rvalid & (d_piece == 2)
        with m.If(axi.rvalid):
            m.d.sync += d_beat.eq(d_beat + 1)
            with m.If(d_piece == 0):
                m.d.sync += gbuf[d_beat].eq(axi.rdata)
            with m.If(d_piece == 1):
                m.d.sync += wbuf[d_beat].eq(axi.rdata)
            with m.If(d_beat == cb - 1):
                m.d.sync += [d_beat.eq(0), d_piece.eq(d_piece + 1)]

        # The pipeline: one V beat (fv lanes) per cycle, with its G and W beats and mask bits.
        elem0 = Signal(cw + 8)
        m.d.comb += elem0.eq(off * fv)
        mask = self._mask(m, d, wbuf, elem0)
        mask_beat = Signal(fv)
        m.d.comb += mask_beat.eq(mask.word_select(d_beat, fv))
        g_in, w_in, v_in = gbuf[d_beat], wbuf[d_beat], axi.rdata
        stage_valid = [Signal(name=f"s{i}_valid") for i in range(5)]
        stage_beat = [Signal(range(ch), name=f"s{i}_beat") for i in range(5)]
        stage_last = [Signal(name=f"s{i}_last") for i in range(5)]
        m.d.sync += [stage_valid[0].eq(compute), stage_beat[0].eq(d_beat),
                     stage_last[0].eq(compute & (d_beat == cb - 1))]
        for i in range(1, 5):
            m.d.sync += [stage_valid[i].eq(stage_valid[i - 1]), stage_beat[i].eq(stage_beat[i - 1]),
                         stage_last[i].eq(stage_last[i - 1])]
        w_out, v_out = [], []
        for j in range(fv):
            lane = slice(32 * j, 32 * (j + 1))
            g, w, v = g_in[lane], w_in[lane], v_in[lane]

            def reg(value, name, j=j):
                r = Signal(32, name=f"{name}{j}", reset_less=True)
                m.d.sync += r.eq(value)
                return r

            # c1: SR-STE product, weight-decay product, momentum product
            t = Mux(mask_beat[j], 0, w)
            s1 = reg(fp32_mul(m, t, d.decay, f"sr{j}"), "s1_sr")
            d1 = reg(fp32_mul(m, w, d.wd, f"wd{j}"), "s1_wd")
            vm1 = reg(fp32_mul(m, v, d.mu, f"mu{j}"), "s1_vm")
            g1_in, w1 = reg(g, "s1_g"), reg(w, "s1_w")
            # c2: g1 = G + decay * t (mode 0: G)
            g1 = reg(Mux(d.mode == 0, g1_in, fp32_add(m, g1_in, s1, f"g1_{j}")), "s2_g")
            d2, vm2, w2 = reg(d1, "s2_wd"), reg(vm1, "s2_vm"), reg(w1, "s2_w")
            # c3: g2 = g1 + wd * W
            g2 = reg(fp32_add(m, g1, d2, f"g2_{j}"), "s3_g")
            vm3, w3 = reg(vm2, "s3_vm"), reg(w2, "s3_w")
            # c4: V' = g2 (first) or mu * V + g2
            v4 = reg(Mux(d.first, g2, fp32_add(m, vm3, g2, f"v_{j}")), "s4_v")
            w4 = reg(w3, "s4_w")
            # c5: u = neg_lr * V'
            u5, v5, w5 = reg(fp32_mul(m, v4, d.neg_lr, f"lr{j}"), "s5_u"), reg(v4, "s5_v"), reg(w4, "s5_w")
            # c6: W' = W + u
            w_out.append(fp32_add(m, w5, u5, f"w_{j}"))
            v_out.append(v5)

        # Output banks (two, alternating chunks) and the writer.
        obuf_w = [Array(Signal(bits, name=f"ow{b}_{i}") for i in range(ch)) for b in range(2)]
        obuf_v = [Array(Signal(bits, name=f"ov{b}_{i}") for i in range(ch)) for b in range(2)]
        bank = Signal()
        with m.If(stage_valid[4]):
            for b in range(2):
                with m.If(bank == b):
                    m.d.sync += [obuf_w[b][stage_beat[4]].eq(Cat(*w_out)), obuf_v[b][stage_beat[4]].eq(Cat(*v_out))]
        w_busy, w_bank, w_beat, w_cb = Signal(), Signal(), Signal(range(2 * ch + 1)), Signal(range(ch + 1))
        w_addr, w_vaddr, w_elem0 = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH), Signal(cw + 8)
        aw_done, w_done = Signal(), Signal()
        responses = Signal(range(2 * (p.write_latency + 4)))
        in_v = w_beat >= w_cb
        idx = Mux(in_v, w_beat - w_cb, w_beat)
        beat_data = Signal(bits)
        for b in range(2):
            with m.If(w_bank == b):
                m.d.comb += beat_data.eq(Mux(in_v, obuf_v[b][idx], obuf_w[b][idx]))
        strobes = [(w_elem0 + idx * fv + j < d.cols).replicate(FP32_BYTES) for j in range(fv)]
        m.d.comb += [axi.awaddr.eq(Mux(in_v, w_vaddr, w_addr) + (idx << shift)), axi.awlen.eq(0),
                     axi.awsize.eq(shift), axi.awburst.eq(1), axi.awvalid.eq(w_busy & ~aw_done),
                     axi.wdata.eq(beat_data), axi.wstrb.eq(Cat(*strobes)), axi.wlast.eq(1),
                     axi.wvalid.eq(w_busy & ~w_done), axi.bready.eq(1)]
        aw_fire, w_fire = axi.awvalid & axi.awready, axi.wvalid & axi.wready
        m.d.sync += responses.eq(responses + aw_fire - axi.bvalid)
        with m.If((aw_done | aw_fire) & (w_done | w_fire)):
            m.d.sync += [aw_done.eq(0), w_done.eq(0), w_beat.eq(w_beat + 1)]
            with m.If(w_beat == 2 * w_cb - 1):
                m.d.sync += w_busy.eq(0)
        with m.Else():
            m.d.sync += [aw_done.eq(aw_done | aw_fire), w_done.eq(w_done | w_fire)]

        m.d.comb += self.done.eq((state == finish) & ~w_busy & (responses == 0))
        with m.Switch(state):
            with m.Case(idle):
                with m.If(self.desc.valid):
                    v = self.desc.payload
                    m.d.sync += [d.eq(v), n.eq(0), off.eq(0), g_row.eq(v.g_base), w_row.eq(v.w_base),
                                 v_row.eq(v.v_base), bank.eq(0), state.eq(row)]
            with m.Case(row):
                m.d.sync += [cb.eq(cb_now), ar_active.eq(1), ar_piece.eq(0), ar_addr.eq(g_row + byte_off),
                             ar_left.eq(cb_now), d_piece.eq(0), d_beat.eq(0), state.eq(read)]
            with m.Case(read):
                with m.If(stage_last[4]):
                    m.d.sync += state.eq(hand)
            with m.Case(hand):
                with m.If(~w_busy):
                    m.d.sync += [w_busy.eq(1), w_bank.eq(bank), w_beat.eq(0), w_cb.eq(cb),
                                 w_addr.eq(w_row + byte_off), w_vaddr.eq(v_row + byte_off), w_elem0.eq(elem0),
                                 aw_done.eq(0), w_done.eq(0), bank.eq(~bank)]
                    with m.If(last_chunk):
                        m.d.sync += [n.eq(n + 1), off.eq(0), g_row.eq(g_row + d.g_stride),
                                     w_row.eq(w_row + d.w_stride), v_row.eq(v_row + d.v_stride),
                                     state.eq(Mux(n == d.rows - 1, finish, row))]
                    with m.Else():
                        m.d.sync += [off.eq(off + ch), state.eq(row)]
            with m.Case(finish):
                with m.If(self.done):
                    m.d.sync += state.eq(idle)
        return m
