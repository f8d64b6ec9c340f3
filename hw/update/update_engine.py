"""The weight-update engine: fp32 SGD with momentum, weight decay and the SR-STE term, memory to memory.

One descriptor (`update_descriptor_layout`) updates ``W[rows, cols]`` and its momentum ``V`` from the WG
GEMM's result ``G`` (each row-major with its own stride), bit-exact to `nmsat.sim.update_engine`
(`update_reference`, `update_engine_cycles`). Rows are cut into chunks of up to `chunk` beats (``BB/4``
fp32 lanes each), which go through three overlapping parts: the address side (a setup cycle per chunk,
allowed while its output bank is free; then the G, W and V pieces, one burst per cycle, split at 256 beats
and 4 KiB); the data side (G and W beats into the chunk's bank of two; each V beat through the 6-stage
fp32 pipeline, `nmsat.sim.update_engine` lists the operations, with the chunk's SR-STE mask computed
combinationally from its buffered W, elements past ``cols`` sorting as padding; results into the chunk's
output bank); the writer (once the chunk is computed and the previous one written: W' then V', one-beat
bursts, one per cycle, strobes low past ``cols``). ``done`` is high for one cycle once the last write
response is in.
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
        self.outstanding = max(params.outstanding, 12)  # two chunks of 3 pieces, each split at most once at 4 KiB
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
        busy, finished = Signal(), Signal()
        m.d.comb += self.desc.ready.eq(~busy)
        accept = self.desc.valid & ~busy
        v = self.desc.payload
        row_beats = (d.cols + fv - 1) >> (fv.bit_length() - 1)

        def walker(name):
            """Counters of one walk over the chunks (row > chunk): row addresses, chunk offset and size."""
            n, off = Signal(cw, name=f"{name}_n"), Signal(cw, name=f"{name}_off")
            rows = {x: Signal(ADDR_WIDTH, name=f"{name}_{x}") for x in ("g", "w", "v")}
            rem = row_beats - off
            last_chunk = rem <= ch
            geo = {"cb": Mux(last_chunk, rem, ch), "last": last_chunk & (n == d.rows - 1), "off": off,
                   "elem0": off * fv, **{x: r + (off << shift) for x, r in rows.items()}}

            def advance():
                with m.If(last_chunk):
                    m.d.sync += [n.eq(n + 1), off.eq(0)]
                    m.d.sync += [r.eq(r + getattr(d, f"{x}_stride")) for x, r in rows.items()]
                with m.Else():
                    m.d.sync += off.eq(off + ch)

            def reset():
                m.d.sync += [n.eq(0), off.eq(0)] + [r.eq(getattr(v, f"{x}_base")) for x, r in rows.items()]
            return geo, advance, reset

        chunks_issued, chunks_written = Signal(32), Signal(32)

        # Address side: the G, W and V pieces of a chunk, up to one chunk ahead of the writer's bank.
        ga, advance_a, reset_a = walker("a")
        a_setup, a_issue = Signal(), Signal()
        ar_piece, ar_addr, ar_left, a_cb = Signal(2), Signal(ADDR_WIDTH), Signal(cw), Signal(range(ch + 1))
        a_w, a_v = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        in_flight = Signal(range(self.outstanding + 1))
        length = burst_beats(ar_addr, ar_left, bb)
        m.d.comb += [axi.araddr.eq(ar_addr), axi.arlen.eq(length - 1), axi.arsize.eq(shift), axi.arburst.eq(1),
                     axi.arvalid.eq(a_issue & (in_flight < self.outstanding)), axi.rready.eq(1)]
        ar_fire = axi.arvalid & axi.arready
        m.d.sync += in_flight.eq(in_flight + ar_fire - (axi.rvalid & axi.rlast))
        with m.If(a_setup & (chunks_issued - chunks_written < 2)):
            m.d.sync += [a_setup.eq(0), a_issue.eq(1), a_cb.eq(ga["cb"]), ar_piece.eq(0), ar_addr.eq(ga["g"]),
                         ar_left.eq(ga["cb"]), a_w.eq(ga["w"]), a_v.eq(ga["v"])]
        with m.If(ar_fire):
            m.d.sync += [ar_addr.eq(ar_addr + (length << shift)), ar_left.eq(ar_left - length)]
            with m.If(ar_left == length):
                m.d.sync += [ar_piece.eq(ar_piece + 1), ar_left.eq(a_cb), ar_addr.eq(Mux(ar_piece == 0, a_w, a_v))]
                with m.If(ar_piece == 2):
                    m.d.sync += [a_issue.eq(0), a_setup.eq(~ga["last"]), chunks_issued.eq(chunks_issued + 1)]
                    advance_a()

        # Data side: G and W beats into the chunk's bank; each V beat into the pipeline.
        gd, advance_d, reset_d = walker("d")
        gbuf = [Array(Signal(bits, name=f"gbuf{b}_{i}") for i in range(ch)) for b in range(2)]
        wbuf = [Array(Signal(bits, name=f"wbuf{b}_{i}") for i in range(ch)) for b in range(2)]
        d_piece, d_beat, d_bank = Signal(2), Signal(range(ch + 1)), Signal()
        compute = axi.rvalid & (d_piece == 2)
        with m.If(axi.rvalid):
            m.d.sync += d_beat.eq(d_beat + 1)
            for b in range(2):
                with m.If(d_bank == b):
                    with m.If(d_piece == 0):
                        m.d.sync += gbuf[b][d_beat].eq(axi.rdata)
                    with m.If(d_piece == 1):
                        m.d.sync += wbuf[b][d_beat].eq(axi.rdata)
            with m.If(d_beat == gd["cb"] - 1):
                m.d.sync += [d_beat.eq(0), d_piece.eq(d_piece + 1)]
                with m.If(d_piece == 2):
                    m.d.sync += [d_piece.eq(0), d_bank.eq(~d_bank)]
                    advance_d()

        # The pipeline: one V beat (fv lanes) per cycle, with its G and W beats and mask bits.
        w_chunk = [Mux(d_bank, wbuf[1][i], wbuf[0][i]) for i in range(ch)]
        mask = self._mask(m, d, w_chunk, gd["elem0"])
        mask_beat = Signal(fv)
        m.d.comb += mask_beat.eq(mask.word_select(d_beat, fv))
        g_in = Mux(d_bank, gbuf[1][d_beat], gbuf[0][d_beat])
        w_in, v_in = Mux(d_bank, wbuf[1][d_beat], wbuf[0][d_beat]), axi.rdata
        stage_valid = [Signal(name=f"s{i}_valid") for i in range(5)]
        stage_beat = [Signal(range(ch), name=f"s{i}_beat") for i in range(5)]
        stage_last = [Signal(name=f"s{i}_last") for i in range(5)]
        stage_bank = [Signal(name=f"s{i}_bank") for i in range(5)]
        m.d.sync += [stage_valid[0].eq(compute), stage_beat[0].eq(d_beat), stage_bank[0].eq(d_bank),
                     stage_last[0].eq(compute & (d_beat == gd["cb"] - 1))]
        for i in range(1, 5):
            m.d.sync += [stage_valid[i].eq(stage_valid[i - 1]), stage_beat[i].eq(stage_beat[i - 1]),
                         stage_last[i].eq(stage_last[i - 1]), stage_bank[i].eq(stage_bank[i - 1])]
        w_out, v_out = [], []
        for j in range(fv):
            lane = slice(32 * j, 32 * (j + 1))
            g, w, vv = g_in[lane], w_in[lane], v_in[lane]

            def reg(value, name, j=j):
                r = Signal(32, name=f"{name}{j}", reset_less=True)
                m.d.sync += r.eq(value)
                return r

            # c1: SR-STE product, weight-decay product, momentum product
            t = Mux(mask_beat[j], 0, w)
            s1 = reg(fp32_mul(m, t, d.decay, f"sr{j}"), "s1_sr")
            d1 = reg(fp32_mul(m, w, d.wd, f"wd{j}"), "s1_wd")
            vm1 = reg(fp32_mul(m, vv, d.mu, f"mu{j}"), "s1_vm")
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

        # Output banks (chunk parity) and the writer.
        obuf_w = [Array(Signal(bits, name=f"ow{b}_{i}") for i in range(ch)) for b in range(2)]
        obuf_v = [Array(Signal(bits, name=f"ov{b}_{i}") for i in range(ch)) for b in range(2)]
        ready = Signal(2)
        with m.If(stage_valid[4]):
            for b in range(2):
                with m.If(stage_bank[4] == b):
                    m.d.sync += [obuf_w[b][stage_beat[4]].eq(Cat(*w_out)), obuf_v[b][stage_beat[4]].eq(Cat(*v_out))]
            with m.If(stage_last[4]):
                m.d.sync += ready.bit_select(stage_bank[4], 1).eq(1)
        gh, advance_h, reset_h = walker("h")
        h_bank = Signal()
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
                m.d.sync += [w_busy.eq(0), chunks_written.eq(chunks_written + 1)]
        with m.Else():
            m.d.sync += [aw_done.eq(aw_done | aw_fire), w_done.eq(w_done | w_fire)]

        # HAND: a computed chunk to the writer once it is free.
        with m.If(busy & ~finished & ready.bit_select(h_bank, 1) & ~w_busy):
            m.d.sync += [w_busy.eq(1), w_bank.eq(h_bank), w_beat.eq(0), w_cb.eq(gh["cb"]), w_addr.eq(gh["w"]),
                         w_vaddr.eq(gh["v"]), w_elem0.eq(gh["elem0"]), aw_done.eq(0), w_done.eq(0),
                         h_bank.eq(~h_bank), ready.bit_select(h_bank, 1).eq(0), finished.eq(gh["last"])]
            advance_h()

        m.d.comb += self.done.eq(busy & finished & ~w_busy & (responses == 0))
        with m.If(self.done):
            m.d.sync += busy.eq(0)
        with m.If(accept):
            m.d.sync += [d.eq(v), busy.eq(1), finished.eq(0), a_setup.eq(1), a_issue.eq(0), chunks_issued.eq(0),
                         chunks_written.eq(0), d_piece.eq(0), d_beat.eq(0), d_bank.eq(0), ready.eq(0),
                         h_bank.eq(0)]
            for reset in (reset_a, reset_d, reset_h):
                reset()
        return m
