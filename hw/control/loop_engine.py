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
from nmsat.hw.replicas import load_when

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
            # the next cycle's tile_ready, load_busy and store_busy (the D inputs of those registers)
            "tile_ready_next": In(1), "load_busy_next": In(1), "store_busy_next": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        p, cw = self.p, COUNT_WIDTH
        d = Signal.like(self.desc.payload)
        more, t_par, o_par = Signal(), Signal(), Signal()
        # The walker keeps each operand's address at its counters (a_addr: the chunk's A at this fold; b_addr: the
        # n block's B at this fold; y_addr: the chunk's Y at this n block) and the bases it restarts from.
        a_chunk_addr, a_addr = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        b_nb_addr, b_addr = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        y_chunk_addr, y_addr = Signal(ADDR_WIDTH), Signal(ADDR_WIDTH)
        a_base_row = Signal(cw)
        # The walker's counters count down to 0; whether each is at its last (or first) value is a register, set
        # at the step before: no arithmetic on the descriptor between the walker's registers.
        kf_left, nb_left, mc_left = Signal(cw), Signal(cw), Signal(cw)
        kf_last, nb_last, mc_last, kf_first, nb_first, mc_odd = (Signal(name=n) for n in (
            "kf_last", "nb_last", "mc_last", "kf_first", "nb_first", "mc_odd"))
        one_fold, one_block = Signal(), Signal()  # k_folds == 1, n_blocks == 1
        steps_full, steps_last = Signal(cw), Signal(cw)  # ceil(rows / G) of a full chunk and of the last
        # Whether each count a load job's `has_w` and `nonempty` come from is non-zero: registers set at the start.
        nz = Signal(data.StructLayout({k: 1 for k in ("w_beats_full", "w_beats_last", "chunk_rows", "last_rows")}))

        # The tile at the walker's counters.
        rows = Mux(mc_last, d.last_rows, d.chunk_rows)
        steps = Mux(mc_last, steps_last, steps_full)
        a_bank = Mux(d.resident, mc_odd, t_par)
        a_base = Mux(d.resident, a_base_row, 0)
        w_beats = Mux(kf_last, d.w_beats_last, d.w_beats_full)
        has_w = Mux(kf_last, nz.w_beats_last, nz.w_beats_full)
        a_en = ~d.resident | nb_first
        tile = Signal(tile_layout(p, cw))
        load = Signal(load_layout(p, cw))
        store = Signal(store_layout(p, cw))
        m.d.comb += [
            tile.mode.eq(d.mode), tile.lg.eq(d.lg), tile.steps.eq(steps), tile.accumulate.eq(~kf_first),
            tile.a_bank.eq(a_bank), tile.a_base.eq(a_base), tile.w_bank.eq(t_par),
            tile.w_rows.eq(Mux(kf_last, d.w_rows_last, d.w_rows_full)), tile.o_bank.eq(o_par),
            tile.k_elems.eq(Mux(kf_last, d.k_last, (1 << cw) - 1)),
            load.w_addr.eq(b_addr), load.w_beats.eq(w_beats), load.has_w.eq(has_w),
            load.w_bank.eq(t_par), load.a_en.eq(a_en), load.a_addr.eq(a_addr),
            load.nonempty.eq(has_w | (a_en & Mux(mc_last, nz.last_rows, nz.chunk_rows))),
            load.a_stride.eq(d.a_stride), load.a_pieces.eq(rows),
            load.a_beats.eq(Mux(kf_last, d.a_beats_last, d.a_beats_full)), load.a_bank.eq(a_bank),
            load.a_base.eq(a_base), load.lg.eq(d.lg), load.a_group_beats.eq(d.a_group_beats), load.mode.eq(d.mode),
            store.o_bank.eq(o_par), store.y_addr.eq(y_addr), store.y_stride.eq(d.y_stride),
            store.pieces.eq(rows), store.cols.eq(Mux(nb_last, d.last_cols, p.cols)), store.lg.eq(d.lg),
        ]

        # The two tiles in flight: `nxt` computes in the coming phase, `cur` is stored in it if it ends a k loop.
        nxt_valid, nxt_tile, nxt_store, nxt_stores = Signal(), Signal.like(tile), Signal.like(store), Signal()
        cur_valid, cur_store, cur_stores = Signal(), Signal.like(store), Signal()
        load_job, load_pending = Signal.like(load), Signal()

        # `go` is a register, decided a cycle ahead from the next values of what it waits for (the tile engine's
        # `ready`, the DMAs' `busy`, this engine's own registers): it fans out to every register latched at a
        # phase. Two phases never start in consecutive cycles (a phase's tile, load or store makes its block
        # busy in the next cycle), so the walker steps in the cycle after go, from its own register. The first go
        # is two cycles after the latch, when the walker has started.
        go, step, run, finish = Signal(), Signal(), Signal(), Signal()
        tile_go, store_go, load_go = Signal(), Signal(), Signal()
        latch = ~run & ~finish & self.desc.valid
        dma_ready = ~self.store_busy & ~self.load_busy & ~load_pending
        work = more | nxt_valid | (cur_valid & cur_stores)
        ready = self.tile_ready & dma_ready
        m.d.comb += [
            self.desc.ready.eq(~run & ~finish),
            self.tile.eq(nxt_tile), self.tile_go.eq(tile_go), self.store.eq(cur_store), self.store_go.eq(store_go),
            self.load.eq(load_job), self.load_go.eq(load_go),
        ]
        ends = kf_last & nb_last & mc_last  # the walker is at the GEMM's last tile
        more_next = Mux(latch, 1, Mux(go, more & ~ends, more))
        nxt_valid_next = Mux(latch, 0, Mux(go, more, nxt_valid))
        cur_valid_next = Mux(latch, 0, Mux(go, nxt_valid, cur_valid))
        cur_stores_next = Mux(go, nxt_stores, cur_stores)
        pending_next = Mux(latch, 0, Mux(go, more, load_pending & ~self.load_go))
        work_next = more_next | nxt_valid_next | (cur_valid_next & cur_stores_next)
        run_next = latch | (run & ~(ready & ~work))
        go_next = run_next & ~latch & self.tile_ready_next & ~self.store_busy_next & ~self.load_busy_next & \
            ~pending_next & work_next
        # Each block's go is a register too, set from the next values of what it is (go & nxt_valid; go & cur_valid
        # & cur_stores; load_pending & ~store_busy & ~store_go), so no go reaches another block through logic.
        store_go_next = go_next & cur_valid_next & cur_stores_next
        m.d.sync += [go.eq(go_next), tile_go.eq(go_next & nxt_valid_next), store_go.eq(store_go_next),
                     load_go.eq(pending_next & ~self.store_busy_next & ~store_go_next),
                     more.eq(more_next), nxt_valid.eq(nxt_valid_next), cur_valid.eq(cur_valid_next),
                     cur_stores.eq(cur_stores_next), load_pending.eq(pending_next), run.eq(run_next)]
        # Registers latched at a phase, at a step of the walker or at the start are enabled by copies of one
        # register each (`replicas`), every copy beside its share of them: one net to hundreds of flip-flops took
        # 11-14 ns to route.
        load_when(m, "go", go_next, [(cur_store, nxt_store), (nxt_tile, tile), (nxt_store, store),
                                     (nxt_stores, kf_last), (load_job, load)])
        # What the next step does is decided from the walker's registers in the cycle before it: they change only
        # at a step or the start, and a step never follows either in the next cycle (go is a cycle after the start at
        # the earliest and steps one cycle after go; phases are never in consecutive cycles). So each walker
        # register is enabled by a register set at go (step, and which counters wrap) and loads a value that has
        # no compare in it.
        kf_one, nb_one, mc_one = (Signal(name=n) for n in ("kf_one", "nb_one", "mc_one"))
        m.d.sync += [kf_one.eq(kf_left == 1), nb_one.eq(nb_left == 1), mc_one.eq(mc_left == 1), step.eq(go)]
        b_nb_next, a_chunk_next = b_nb_addr + d.b_stride, a_chunk_addr + d.a_chunk
        y_chunk_next = y_chunk_addr + d.y_chunk
        load_when(m, "step_kf_wrap", go & kf_last, [
            (kf_left, d.k_folds - 1), (kf_last, one_fold), (kf_first, 1), (a_addr, a_chunk_addr), (a_base_row, 0),
            (o_par, ~o_par)])
        load_when(m, "step_kf_adv", go & ~kf_last, [
            (kf_left, kf_left - 1), (kf_last, kf_one), (kf_first, 0), (a_addr, a_addr + d.a_fold),
            (b_addr, b_addr + d.b_fold), (a_base_row, a_base_row + steps)])
        load_when(m, "step_nb_wrap", go & kf_last & nb_last, [
            (nb_left, d.n_blocks - 1), (nb_last, one_block), (nb_first, 1), (b_nb_addr, d.b_base),
            (b_addr, d.b_base), (y_addr, y_chunk_addr)])
        load_when(m, "step_nb_adv", go & kf_last & ~nb_last, [
            (nb_left, nb_left - 1), (nb_last, nb_one), (nb_first, 0), (b_nb_addr, b_nb_next), (b_addr, b_nb_next),
            (y_addr, y_addr + p.cols * p.acc_width // 8)])
        load_when(m, "step_mc_adv", go & kf_last & nb_last & ~mc_last, [
            (mc_left, mc_left - 1), (mc_last, mc_one), (mc_odd, ~mc_odd), (a_chunk_addr, a_chunk_next),
            (a_addr, a_chunk_next), (y_chunk_addr, y_chunk_next), (y_addr, y_chunk_next)])
        with m.If(step):
            m.d.sync += t_par.eq(~t_par)

        # The descriptor register follows the port while the engine is idle (so it holds the descriptor taken at
        # the handshake); the walker starts from it in the next cycle (`start`), so no arithmetic on the
        # descriptor port reaches a walker register.
        # Idle next cycle (~run_next & ~finish_next): a running engine stays running or finishes, a finishing one
        # finishes while a write is pending, an idle one starts at the handshake (so no `ready` in it).
        finish_next = Mux(finish & ~self.store_pending, 0, Mux(run & ready & ~work, 1, finish))
        load_when(m, "idle", ~run & Mux(finish, ~self.store_pending, ~self.desc.valid), [(d, self.desc.payload)],
                  init=1)
        g = (1 << d.lg) - 1
        load_when(m, "start", latch, [
            (t_par, 0), (o_par, 0), (kf_left, d.k_folds - 1), (nb_left, d.n_blocks - 1), (mc_left, d.m_chunks - 1),
            (kf_last, d.k_folds == 1), (nb_last, d.n_blocks == 1), (mc_last, d.m_chunks == 1),
            (one_fold, d.k_folds == 1), (one_block, d.n_blocks == 1), (kf_first, 1), (nb_first, 1), (mc_odd, 0),
            (steps_full, (d.chunk_rows + g) >> d.lg), (steps_last, (d.last_rows + g) >> d.lg),
            (a_chunk_addr, d.a_base), (a_addr, d.a_base), (b_nb_addr, d.b_base), (b_addr, d.b_base),
            (y_chunk_addr, d.y_base), (y_addr, d.y_base), (a_base_row, 0),
            *((nz[k], d[k] != 0) for k in nz.shape().members)])
        m.d.sync += finish.eq(finish_next)
        m.d.comb += self.done.eq(finish & ~self.store_pending)
        return m
