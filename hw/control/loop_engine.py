"""The loop engine: walks one GEMM's tiles (order m chunk > n block > k fold) in lock-step phases.

Phase j starts (``go``) when the tile engine and the DMA are both ready: the tile engine starts tile j,
the write DMA stores tile j-1's output tile if j-1 was its last k fold, and then the read DMA loads tile
j+1's operands into the other banks. The first phase only loads tile 0; the last only stores. After it,
the engine waits for every write response and raises ``done`` for one cycle.

Banks: the weights of consecutive tiles alternate banks; so do the activations, except with ``resident``
(the chunk's rows of A for every k fold stay in one bank, fold f at rows ``f*steps``, loaded with the
chunk's first n block and reused by the others; chunks alternate banks); output tiles alternate banks.
"""

from amaranth import Module, Mux, Shape, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH
from nmsat.hw.control.tile_engine import tile_layout
from nmsat.hw.memory.read_dma import load_layout
from nmsat.hw.memory.write_dma import store_layout

COUNT_WIDTH = 16

_COUNTS = ("m_chunks", "chunk_rows", "last_rows", "n_blocks", "last_cols", "k_folds", "w_rows_full",
           "w_rows_last", "w_beats_full", "w_beats_last", "a_beats_full", "a_beats_last", "a_group_beats", "k_last")
_ADDRS = ("a_base", "a_stride", "a_chunk", "a_fold", "b_base", "b_stride", "b_fold", "y_base", "y_stride",
          "y_chunk")


def descriptor_layout(p):
    """The GEMM descriptor, LSB first: mode, lg, resident, then the counts (16 bits) and addresses (32 bits)."""
    fields = {"mode": p.mode_width, "lg": p.group_width, "resident": 1}
    fields.update({k: COUNT_WIDTH for k in _COUNTS})
    fields.update({k: ADDR_WIDTH for k in _ADDRS})
    return data.StructLayout(fields)


def descriptor_fields(p):
    """``[(name, width)]`` of the descriptor in bit order (for drivers that pack it)."""
    return [(name, Shape.cast(shape).width) for name, shape in descriptor_layout(p).members.items()]


class LoopEngine(wiring.Component):
    """Turns a descriptor into tile-engine, load and store jobs, one phase at a time."""

    def __init__(self, params):
        self.p = params
        cw = COUNT_WIDTH
        super().__init__({
            "desc": In(stream.Signature(descriptor_layout(params))), "done": Out(1),
            "tile_go": Out(1), "tile": Out(tile_layout(params, cw)), "tile_ready": In(1),
            "load_go": Out(1), "load": Out(load_layout(params, cw)), "load_busy": In(1),
            "store_go": Out(1), "store": Out(store_layout(params, cw)), "store_busy": In(1),
            "store_pending": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        p, cw = self.p, COUNT_WIDTH
        d = Signal.like(self.desc.payload)
        mc, nb, kf = Signal(cw), Signal(cw), Signal(cw)
        more, t_par, o_par = Signal(), Signal(), Signal()
        a_chunk_addr, a_fold_off = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        b_nb_addr, b_fold_off = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        y_chunk_addr, y_nb_off = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        a_base_row = Signal(cw)

        # The tile at the walker's counters.
        kf_last, nb_last, mc_last = kf == d.k_folds - 1, nb == d.n_blocks - 1, mc == d.m_chunks - 1
        rows = Mux(mc_last, d.last_rows, d.chunk_rows)
        steps = Signal(cw)
        m.d.comb += steps.eq((rows + (1 << d.lg) - 1) >> d.lg)
        a_bank = Mux(d.resident, mc[0], t_par)
        a_base = Mux(d.resident, a_base_row, 0)
        tile = Signal(tile_layout(p, cw))
        load = Signal(load_layout(p, cw))
        store = Signal(store_layout(p, cw))
        m.d.comb += [
            tile.mode.eq(d.mode), tile.lg.eq(d.lg), tile.steps.eq(steps), tile.accumulate.eq(kf != 0),
            tile.a_bank.eq(a_bank), tile.a_base.eq(a_base), tile.w_bank.eq(t_par),
            tile.w_rows.eq(Mux(kf_last, d.w_rows_last, d.w_rows_full)), tile.o_bank.eq(o_par),
            tile.k_elems.eq(Mux(kf_last, d.k_last, (1 << cw) - 1)),
            load.w_addr.eq(b_nb_addr + b_fold_off), load.w_beats.eq(Mux(kf_last, d.w_beats_last, d.w_beats_full)),
            load.w_bank.eq(t_par), load.a_en.eq(~d.resident | (nb == 0)), load.a_addr.eq(a_chunk_addr + a_fold_off),
            load.a_stride.eq(d.a_stride), load.a_pieces.eq(rows),
            load.a_beats.eq(Mux(kf_last, d.a_beats_last, d.a_beats_full)), load.a_bank.eq(a_bank),
            load.a_base.eq(a_base), load.lg.eq(d.lg), load.a_group_beats.eq(d.a_group_beats), load.mode.eq(d.mode),
            store.o_bank.eq(o_par), store.y_addr.eq(y_chunk_addr + y_nb_off), store.y_stride.eq(d.y_stride),
            store.pieces.eq(rows), store.cols.eq(Mux(nb_last, d.last_cols, p.cols)), store.lg.eq(d.lg),
        ]

        # The two tiles in flight: `nxt` computes in the coming phase, `cur` is stored in it if it ends a k loop.
        nxt_valid, nxt_tile, nxt_store, nxt_stores = Signal(), Signal.like(tile), Signal.like(store), Signal()
        cur_valid, cur_store, cur_stores = Signal(), Signal.like(store), Signal()
        load_job, load_pending = Signal.like(load), Signal()

        dma_ready = ~self.store_busy & ~self.load_busy & ~load_pending
        work = more | nxt_valid | (cur_valid & cur_stores)
        go = Signal()
        m.d.comb += [
            self.tile.eq(nxt_tile), self.tile_go.eq(go & nxt_valid),
            self.store.eq(cur_store), self.store_go.eq(go & cur_valid & cur_stores),
            self.load.eq(load_job), self.load_go.eq(load_pending & ~self.store_busy & ~self.store_go),
        ]
        with m.If(self.load_go):
            m.d.sync += load_pending.eq(0)
        with m.If(go):
            m.d.sync += [cur_valid.eq(nxt_valid), cur_store.eq(nxt_store), cur_stores.eq(nxt_stores),
                         nxt_valid.eq(more), nxt_tile.eq(tile), nxt_store.eq(store), nxt_stores.eq(kf_last),
                         load_job.eq(load), load_pending.eq(more)]
            # Step the walker.
            m.d.sync += t_par.eq(~t_par)
            with m.If(kf_last):
                m.d.sync += [kf.eq(0), a_fold_off.eq(0), b_fold_off.eq(0), a_base_row.eq(0), o_par.eq(~o_par)]
                with m.If(nb_last):
                    m.d.sync += [nb.eq(0), b_nb_addr.eq(d.b_base), y_nb_off.eq(0)]
                    with m.If(mc_last):
                        m.d.sync += more.eq(0)
                    with m.Else():
                        m.d.sync += [mc.eq(mc + 1), a_chunk_addr.eq(a_chunk_addr + d.a_chunk),
                                     y_chunk_addr.eq(y_chunk_addr + d.y_chunk)]
                with m.Else():
                    m.d.sync += [nb.eq(nb + 1), b_nb_addr.eq(b_nb_addr + d.b_stride),
                                 y_nb_off.eq(y_nb_off + p.cols * p.acc_width // 8)]
            with m.Else():
                m.d.sync += [kf.eq(kf + 1), a_fold_off.eq(a_fold_off + d.a_fold), b_fold_off.eq(b_fold_off + d.b_fold),
                             a_base_row.eq(a_base_row + steps)]

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.desc.ready.eq(1)
                with m.If(self.desc.valid):
                    x = self.desc.payload
                    m.d.sync += [d.eq(x), mc.eq(0), nb.eq(0), kf.eq(0), more.eq(1), t_par.eq(0), o_par.eq(0),
                                 a_chunk_addr.eq(x.a_base), a_fold_off.eq(0), b_nb_addr.eq(x.b_base),
                                 b_fold_off.eq(0), y_chunk_addr.eq(x.y_base), y_nb_off.eq(0), a_base_row.eq(0),
                                 nxt_valid.eq(0), cur_valid.eq(0), load_pending.eq(0)]
                    m.next = "RUN"
            with m.State("RUN"):
                ready = self.tile_ready & dma_ready
                m.d.comb += go.eq(ready & work)
                with m.If(ready & ~work):
                    m.next = "FINISH"
            with m.State("FINISH"):
                with m.If(~self.store_pending):
                    m.d.comb += self.done.eq(1)
                    m.next = "IDLE"
        return m
