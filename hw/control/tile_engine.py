"""The tile engine: runs one weight-stationary tile on the systolic array out of the ping-pong scratchpads.

Cycle k of a tile counts from 0, the cycle after the ``go`` edge; with the datapath's ``(front, chain, fold)``
(`nmsat.core_params.ws_pipeline`; (4, 1, 0) for integers) the tile lasts
N = R + C + steps + R*chain + 3 + front + fold cycles (`nmsat.sim.tile.ws_cycles`) and ``ready`` is high in its
last cycle, so tiles run back to back. Both scratchpads' read data are registered as they come out (nothing
between a block RAM's output and a register). With G = 2**lg row groups of h = R/G rows: weight row
(R-1-k) mod h of bank ``w_bank`` is read in cycles k = 0..R-1 (rows >= ``w_rows`` read as zero) and enters
the columns as a registered word in k+3 for array row R-1-k (every row holds its weights from cycle R+3);
activation row ``a_base + t`` of bank ``a_bank`` is read in cycle R+t and enters array row r in
R+t+3+r*chain; group g's slot of output row t in bank ``o_bank`` is written in cycle
N-steps+t-(G-1-g)*h*chain, after the fold add (the row there, read fold+2 cycles earlier, is added when
``accumulate``; +0 otherwise).
"""

from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.datapath.fp_mac import Fp32Add
from nmsat.hw.datapath.systolic import SystolicArray
from nmsat.hw.layouts import keep_loads, out_slot_layout, weight_layout, weight_row_layout, weight_word_layout
from nmsat.hw.replicas import replicate, share


def tile_layout(p, count_width):
    """What the loop engine hands the tile engine with ``go``."""
    return data.StructLayout({
        "mode": p.mode_width, "lg": p.group_width, "steps": count_width, "accumulate": 1, "k_elems": count_width,
        "a_bank": 1, "a_base": count_width, "w_bank": 1, "w_rows": count_width, "o_bank": 1,
    })


def bank_addr(bank, row, depth):
    """Scratchpad address of `row` in `bank` (bank 1 is the upper half)."""
    return Mux(bank, row + depth, row)


class TileEngine(wiring.Component):
    """Drives the array and the scratchpad ports for one tile per ``go`` (see the module docstring)."""

    def __init__(self, params, count_width):
        self.p, self.cw = params, count_width
        self.array = SystolicArray(params)
        p = params
        super().__init__({
            "go": In(1), "tile": In(tile_layout(p, count_width)), "ready": Out(1), "ready_next": Out(1),
            "w_addr": Out(range(2 * p.w_depth)), "w_en": Out(1), "w_data": In(p.w_row_bits),
            "a_addr": Out(range(2 * p.a_depth)), "a_en": Out(1), "a_data": In(p.a_row_bits),
            "o_raddr": Out(data.ArrayLayout(range(2 * p.o_depth), p.max_groups)), "o_ren": Out(p.max_groups),
            "o_rdata": In(data.ArrayLayout(out_slot_layout(p), p.max_groups)),
            "o_waddr": Out(data.ArrayLayout(range(2 * p.o_depth), p.max_groups)), "o_wen": Out(p.max_groups),
            "o_wdata": Out(data.ArrayLayout(out_slot_layout(p), p.max_groups)),
        })

    def _weights(self, m, row):
        """The weight row register -> the array's per-column values and indices."""
        p = self.p
        w = Signal(data.ArrayLayout(weight_layout(p), p.cols))
        base = p.w_value_bits()
        for c in range(p.cols):
            for j in range(p.mults):
                i = c * p.mults + j
                m.d.comb += w[c].val[j].eq(row[i * p.data_width:(i + 1) * p.data_width])
                if p.idx_width:
                    m.d.comb += w[c].idx[j].eq(row[base + i * p.idx_width:base + (i + 1) * p.idx_width])
        return w

    def _spread(self, m, row, modes):
        """Compact activation row (element r*E + e) -> the array's windows (row r, element e < E), per mode; each
        element's mux selects on its share of `modes` (copies of the tile's mode)."""
        p = self.p
        d = p.data_width
        out = Signal(p.a_row_bits)
        for r in range(p.rows):
            for e in range(p.e_max):
                i = r * p.e_max + e
                with m.Switch(share(modes, i, p.rows * p.e_max)):
                    for k in p.modes:
                        w = p.window(k)
                        with m.Case(k):
                            m.d.comb += out[i * d:(i + 1) * d].eq(row[(r * w + e) * d:(r * w + e + 1) * d] if e < w
                                                                else 0)
        return out

    def _row_keep(self, m, cmd, rows):
        """Per array row r and element e, a register: whether element e of the row is real in this tile,
        ``e < k_elems - (r mod h) * E`` for the tile's mode and row groups (elements past the mode's E are zero
        padding anyway). Two registers deep from ``cmd``: right from cycle 2, read from cycle R + 1 on."""
        p = self.p
        out = []
        for r in range(rows):
            base = Signal(range(rows * p.e_max + 1), name=f"row{r}_base")
            with m.Switch(cmd.mode):
                for k in p.modes:
                    with m.Case(k):
                        for lg, size in p.group_levels:
                            with m.If(cmd.lg == lg):
                                m.d.comb += base.eq((r % size) * p.window(k))
            left = Signal(signed(self.cw + 2), name=f"row{r}_left", reset_less=True)
            keep = Signal(p.e_max, name=f"row{r}_keep", reset_less=True)
            m.d.sync += [left.eq(cmd.k_elems - base), keep.eq(Cat(left > e for e in range(p.e_max)))]
            out.append(keep)
        return out

    def elaborate(self, platform):
        m = Module()
        p, t = self.p, self.tile
        r_, c_ = p.rows, p.cols
        m.submodules.array = array = self.array
        cmd = Signal.like(t)
        front, chain, fold = p.pipeline
        fixed = r_ + c_ + r_ * chain + 3 + front + fold  # N - steps
        n_width = (fixed + (1 << self.cw)).bit_length()
        go, running = self.go, Signal()
        # Every control decision is a register set a cycle ahead from the cycle count `k`, compared for equality
        # with thresholds latched at go: no arithmetic on the command between two registers of a running tile.
        k = Signal(n_width)
        left = Signal(n_width)  # N - 1 - k
        last = Signal()  # k == N - 1
        m.d.comb += [self.ready.eq(~running | last), self.ready_next.eq(~go & (~running | last | (left == 1)))]
        with m.If(running):
            m.d.sync += [k.eq(k + 1), left.eq(left - 1), last.eq(left == 1)]
        with m.If(last):
            m.d.sync += running.eq(0)
        with m.If(go):
            m.d.sync += [cmd.eq(t), k.eq(0), left.eq(t.steps + fixed - 1), running.eq(1), last.eq(0)]
        ahead = running & ~last  # the registers below are set for cycle k + 1 of this tile

        def group_rows(lg, name):
            h = Signal(range(r_ + 1), name=name)
            m.d.comb += h.eq(r_)
            for level, size in p.group_levels:
                with m.If(lg == level):
                    m.d.comb += h.eq(size)
            return h

        def window(name, start, stop):
            """A register, 1 in cycles ``start + 1 .. stop`` of the tile (`start`, `stop`: constants or registers
            latched at go), and its value a cycle ahead."""
            on = Signal(name=name)
            nxt = ((k == start) | on) & (k != stop)
            with m.If(running):
                m.d.sync += on.eq(nxt)
            with m.If(go):
                m.d.sync += on.eq(0)
            return on, nxt

        def port(name, on_next, start, shape):
            """A scratchpad port's registered enable (`on_next` a cycle ahead, while the tile runs) and address
            (`start` latched at go, then one row on after each enabled cycle)."""
            en, addr = Signal(name=f"{name}_en"), Signal(shape, name=f"{name}_addr")
            m.d.sync += en.eq(ahead & on_next)
            with m.If(en):
                m.d.sync += addr.eq(addr + 1)
            with m.If(go):
                m.d.sync += [en.eq(0), addr.eq(start)]
            return en, addr

        # Weights: weight row h-1-(k mod h) read in cycle k < R, out of the scratchpad in k+1, registered in k+2, a
        # registered word per column in k+3. `w_row` counts the row down, from h-1 at go.
        h_m1, w_rows = Signal(range(max(2, r_))), Signal(range(r_ + 1))
        w_row, w_on = Signal(range(max(2, r_))), Signal()
        w_row_next = Mux(w_row == 0, h_m1, w_row - 1)
        h_go = group_rows(t.lg, "h_go")
        with m.If(running):
            m.d.sync += [w_row.eq(w_row_next), w_on.eq(w_on & (k != r_ - 1))]
        with m.If(go):
            m.d.sync += [h_m1.eq(h_go - 1), w_row.eq(h_go - 1), w_on.eq(1),
                         w_rows.eq(Mux(t.w_rows >= r_, r_, t.w_rows))]
        word = weight_word_layout(p)
        info = Signal(data.StructLayout({"valid": 1, "hops": word["hops"].shape, "top": 1}))
        zero = Signal()  # the row read is past the tile's weight rows
        m.d.sync += [info.valid.eq(running & w_on), info.hops.eq(r_ - 1 - k), info.top.eq(w_row == 0),
                     zero.eq(w_row >= w_rows)]
        info_q = Signal.like(info)  # info of the registered scratchpad row
        w_q = Signal.like(self.w_data, reset_less=True)
        m.d.sync += [info_q.eq(info), w_q.eq(self.w_data)]
        w_top = Signal(weight_row_layout(p), reset_less=True)
        w_valid = Signal()
        weights = self._weights(m, w_q)
        m.d.sync += w_valid.eq(info_q.valid)
        zero_q = replicate(m, "w_zero", zero, p.w_row_bits)  # beside info_q
        for c in range(c_):
            m.d.sync += [w_top[c].w.eq(Mux(share(zero_q, c, c_), 0, weights[c])), w_top[c].mode.eq(cmd.mode),
                         w_top[c].top.eq(info_q.top), w_top[c].hops.eq(info_q.hops)]
            keep = replicate(m, f"w_keep{c}", info_q.valid & (info_q.hops == 0), keep_loads(p))
            m.d.comb += [array.w_top[c].eq(w_top[c]), array.w_top[c].valid.eq(w_valid),
                         array.w_top[c].keep.eq(Cat(*keep))]

        # Activations: row a_base + t read in cycle R + t, out of the scratchpad in R+t+1, registered in R+t+2,
        # spread to the array rows and registered (zero outside the tile) in R+t+3. Elements past the fold's
        # `k_elems` reduction elements are zeroed: the scratchpad holds whatever an earlier tile or A's row padding
        # left there, and in bf16 an inf or NaN times the zero weights there is NaN.
        a_stop = Signal(n_width)
        with m.If(go):
            m.d.sync += a_stop.eq(t.steps + r_ - 1)
        a_on, a_on_next = window("a_on", r_ - 1, a_stop)
        a_valid = Signal()
        a_q = Signal.like(self.a_data, reset_less=True)
        act = Signal(p.a_row_bits, reset_less=True)
        # The tile's mode and a_valid_q as copies, each to a share of the row's elements (`nmsat.hw.replicas`).
        spread = self._spread(m, a_q, replicate(m, "a_mode", t.mode, p.a_row_bits, enable=go))
        a_valid_q = replicate(m, "a_valid_q", a_valid, p.a_row_bits)
        d, elems = p.data_width, r_ * p.e_max
        for r, keep in enumerate(self._row_keep(m, cmd, r_)):
            for e in range(p.e_max):
                i = r * p.e_max + e
                m.d.sync += act[i * d:(i + 1) * d].eq(Mux(keep[e] & share(a_valid_q, i, elems),
                                                          spread[i * d:(i + 1) * d], 0))
        m.d.sync += [a_valid.eq(running & a_on), a_q.eq(self.a_data)]
        m.d.comb += [array.groups.eq(cmd.lg), array.act.eq(act)]
        # The scratchpad read ports are registers, set in cycle k-1 for cycle k (at go for cycle 0, which reads
        # the new tile's first weight row).
        a_en, a_addr = port("a", a_on_next, bank_addr(t.a_bank, t.a_base, p.a_depth), self.a_addr.shape())
        w_en, w_addr = Signal(), Signal.like(self.w_addr)
        m.d.sync += [w_en.eq(ahead & w_on & (k != r_ - 1)), w_addr.eq(bank_addr(cmd.w_bank, w_row_next, p.w_depth))]
        with m.If(go):
            m.d.sync += [w_en.eq(1), w_addr.eq(bank_addr(t.w_bank, h_go - 1, p.w_depth))]
        m.d.comb += [self.w_en.eq(w_en), self.w_addr.eq(w_addr), self.a_en.eq(a_en), self.a_addr.eq(a_addr)]

        # Output writes in the last `steps` cycles of each slot, after the fold add (the row there is read
        # fold + 2 cycles ahead and registered): slot g of group g < G runs (G-1-g)*h*chain cycles ahead of the
        # bottom group; unused slots are not written.
        for g in range(p.max_groups):
            used, early = Signal(name=f"slot{g}_used"), Signal(range(max(2, r_ * chain)), name=f"slot{g}_early")
            m.d.comb += used.eq(g == 0)
            for lg, size in p.group_levels:
                with m.If(t.lg == lg):
                    m.d.comb += [used.eq(g < 1 << lg), early.eq(max(0, ((1 << lg) - 1 - g) * size * chain))]
            # The slot writes in cycles fixed - early .. N - 1 - early and reads fold + 2 cycles before.
            w_start, w_stop, r_start, r_stop = (Signal(n_width, name=f"slot{g}_{x}") for x in
                                                ("w_start", "w_stop", "r_start", "r_stop"))
            is_used = Signal(name=f"slot{g}_is_used")
            with m.If(go):
                m.d.sync += [is_used.eq(used), w_start.eq(fixed - 1 - early), w_stop.eq(t.steps + fixed - 1 - early),
                             r_start.eq(fixed - fold - 3 - early), r_stop.eq(t.steps + fixed - fold - 3 - early)]
            _, w_next = window(f"slot{g}_w_on", w_start, w_stop)
            _, r_next = window(f"slot{g}_r_on", r_start, r_stop)
            base = bank_addr(t.o_bank, 0, p.o_depth)
            wen, waddr = port(f"slot{g}_w", is_used & w_next, base, range(2 * p.o_depth))
            ren, raddr = port(f"slot{g}_r", is_used & r_next, base, range(2 * p.o_depth))
            # The row read back, or 0 when the tile does not accumulate: the choice is made into the register.
            prior = Signal(out_slot_layout(p), name=f"slot{g}_prior", reset_less=True)
            accumulate = replicate(m, f"slot{g}_accumulate", t.accumulate, len(prior.as_value()), enable=go)
            for c in range(c_):
                m.d.sync += prior[c].eq(Mux(share(accumulate, c, c_), self.o_rdata[g][c], 0))
            m.d.comb += [self.o_wen[g].eq(wen), self.o_waddr[g].eq(waddr), self.o_ren[g].eq(ren),
                         self.o_raddr[g].eq(raddr)]
            for c in range(c_):
                old = prior[c]
                if fold:
                    m.submodules[f"fold{g}_{c}"] = add = Fp32Add(fold)
                    m.d.comb += [add.a.eq(array.out[g][c]), add.b.eq(old), self.o_wdata[g][c].eq(add.out)]
                else:
                    m.d.comb += self.o_wdata[g][c].eq(array.out[g][c] + old)
        return m
