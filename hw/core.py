"""The core: scratchpads, the systolic array and the controller that runs one GEMM tile per command.

Cycle k of a tile counts from 0, the cycle after the command handshake; the tile lasts N cycles
(`nmsat.sim.tile.ws_cycles` / `os_cycles`) and ``done`` is high in cycle N-1. See docs/hw-interface.md.

WS schedule (G = 2**groups row groups of h = R/G rows, count = ceil(T/G) steps): weight rows
(R-1-k) mod h read in cycles k = 0..R-1 and shifted into the columns in 1..R; activation row t read in
cycle R+t; group g's slot of output row t written in cycle 2R+C+t-(G-1-g)*h. N = 2R + C + count.
OS schedule: clear in cycle 0; weight and activation step s read in cycle s; the accumulators shift
down in the last R cycles, writing output row R-1-i in cycle N-R+i. N = S + 2R + C - 1.
The output scratchpad is one memory per slot, so each group writes its slot in its own cycle.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from nmsat.hw.layouts import act_row_layout, command_layout, out_row_layout, out_slot_layout, weight_row_layout
from nmsat.hw.systolic import SystolicArray


class Core(wiring.Component):
    """Streams ``cmd``, ``wload``, ``aload`` in, ``out`` out (valid/ready); ``done``: last cycle of a tile."""

    def __init__(self, params):
        self.p = params
        self.array = SystolicArray(params)
        super().__init__({
            "cmd": In(stream.Signature(command_layout(params))),
            "wload": In(stream.Signature(weight_row_layout(params))),
            "aload": In(stream.Signature(act_row_layout(params))),
            "out": Out(stream.Signature(out_row_layout(params))),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.p
        r_, c_ = p.rows, p.cols
        m.submodules.array = array = self.array
        m.submodules.wmem = wmem = Memory(shape=weight_row_layout(p), depth=p.w_depth, init=[])
        m.submodules.amem = amem = Memory(shape=act_row_layout(p), depth=p.a_depth, init=[])
        w_wr, w_rd = wmem.write_port(), wmem.read_port()
        a_wr, a_rd = amem.write_port(), amem.read_port()

        cmd = Signal.like(self.cmd.payload)  # the running tile's command
        n_width = (max(p.a_depth, p.w_depth) + 2 * r_ + c_ + 1).bit_length()
        k, n, rows = Signal(n_width), Signal(n_width), Signal(n_width)
        w_ptr, a_ptr = Signal(range(p.w_depth + 1)), Signal(range(p.a_depth + 1))
        w_phase = Signal(range(r_))  # k mod h: the WS preload reads weight row (R-1-k) mod h = h-1-phase
        w_valid, a_valid = Signal(), Signal()  # read data of a scheduled read is on the port
        running = Signal()
        last = running & (k == n - 1)

        # Loads: rows are written in order from address 0; the pointers restart at each command.
        idle = Signal()
        m.d.comb += [
            self.wload.ready.eq(idle & (w_ptr < p.w_depth)),
            self.aload.ready.eq(idle & (a_ptr < p.a_depth)),
            w_wr.addr.eq(w_ptr), w_wr.data.eq(self.wload.payload),
            w_wr.en.eq(self.wload.valid & self.wload.ready),
            a_wr.addr.eq(a_ptr), a_wr.data.eq(self.aload.payload),
            a_wr.en.eq(self.aload.valid & self.aload.ready),
        ]
        with m.If(w_wr.en):
            m.d.sync += w_ptr.eq(w_ptr + 1)
        with m.If(a_wr.en):
            m.d.sync += a_ptr.eq(a_ptr + 1)

        h = Signal(range(r_ + 1))  # rows per group of the running tile (decoded from the registered command)
        m.d.comb += h.eq(r_)
        for lg, size in p.group_levels:
            with m.If(cmd.groups == lg):
                m.d.comb += h.eq(size)
        with m.If(running):
            m.d.sync += [k.eq(k + 1), w_phase.eq(Mux(w_phase == h - 1, 0, w_phase + 1))]

        # Command handshake: in IDLE, or back to back in the last cycle of a tile that does not drain.
        m.d.comb += [self.cmd.ready.eq(idle | (last & ~cmd.drain)), self.done.eq(last)]
        new = self.cmd.payload
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [cmd.eq(new), k.eq(0), w_ptr.eq(0), a_ptr.eq(0), w_phase.eq(0),
                         n.eq(Mux(new.os, new.count + 2 * r_ + c_ - 1, new.count + 2 * r_ + c_)),
                         rows.eq(Mux(new.os, r_, new.count))]

        # Schedule of the running tile. Reads happen only when scheduled (never out of range).
        ws = ~cmd.os
        ctrl = array.ctrl
        w_read = Mux(ws, k < r_, k < cmd.count)
        a_read = Mux(ws, (k >= r_) & (k < r_ + cmd.count), k < cmd.count)
        groups = Mux(ws, cmd.groups, 0)  # OS runs as one group
        m.d.comb += [
            array.groups.eq(groups),
            w_rd.en.eq(running & w_read), w_rd.addr.eq(Mux(ws, h - 1 - w_phase, k)),
            a_rd.en.eq(running & a_read), a_rd.addr.eq(Mux(ws, k - r_, k)),
            ctrl.ws.eq(ws), ctrl.mode.eq(cmd.mode),
            ctrl.w_shift.eq(Mux(ws, w_valid, 1)),
            ctrl.clear.eq(running & cmd.os & (k == 0)),
            ctrl.drain.eq(running & cmd.os & (k >= n - r_)),
            array.w_top.eq(w_rd.data),
            array.act.eq(Mux(a_valid, a_rd.data, 0)),
        ]
        m.d.sync += [w_valid.eq(running & w_read), a_valid.eq(running & a_read)]

        # Output writes in the last `rows` cycles of each slot, read-modify-write when accumulating: slot g
        # of group g < G runs (G-1-g)*h cycles ahead of the bottom group; unused slots are written 0.
        def out_addr(cycle):
            return Mux(ws, cycle - (n - rows), n - 1 - cycle)

        def in_window(cycle):
            return (cycle >= n - rows) & (cycle < n)

        drain_ptr = Signal(n_width)
        advance = ~self.out.valid | self.out.ready
        draining = Signal()
        for g in range(p.max_groups):
            omem = Memory(shape=out_slot_layout(p), depth=p.o_depth, init=[])
            m.submodules[f"omem{g}"] = omem
            o_wr, o_rd = omem.write_port(), omem.read_port()
            used, ahead = Signal(name=f"slot{g}_used"), Signal(range(r_), name=f"slot{g}_ahead")
            m.d.comb += used.eq(g == 0)
            for lg, size in p.group_levels:
                with m.If(groups == lg):
                    m.d.comb += [used.eq(g < 1 << lg), ahead.eq(max(0, ((1 << lg) - 1 - g) * size))]
            kk = k + ahead  # the tile cycle of the bottom group that matches cycle k of group g
            m.d.comb += [
                o_wr.en.eq(running & in_window(kk)), o_wr.addr.eq(out_addr(kk)),
                o_rd.en.eq(Mux(draining, advance, running & in_window(kk + 1))),
                o_rd.addr.eq(Mux(draining, drain_ptr, out_addr(kk + 1))),
                self.out.payload[g].eq(o_rd.data),
            ]
            for c in range(c_):
                value = array.out[g][c] + Mux(cmd.accumulate, o_rd.data[c], 0)
                m.d.comb += o_wr.data[c].eq(Mux(used, value, 0))

        # Drain: stream output rows 0..rows-1 with a one-row output register under back-pressure.
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += idle.eq(1)
                with m.If(self.cmd.valid):
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += running.eq(1)
                with m.If(last & ~(self.cmd.valid & self.cmd.ready)):
                    m.d.sync += drain_ptr.eq(0)
                    m.next = "IDLE"
                    with m.If(cmd.drain):
                        m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += draining.eq(1)
                with m.If(advance):
                    with m.If(drain_ptr < rows):
                        m.d.sync += [drain_ptr.eq(drain_ptr + 1), self.out.valid.eq(1)]
                    with m.Else():
                        m.d.sync += self.out.valid.eq(0)
                        m.next = "IDLE"
        return m
