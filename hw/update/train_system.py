"""The GEMM core and both training engines behind one AXI4 port, with the deterministic memory model: the
device a whole training step runs on (docs/hw-interface.md, "Training engines").

Three descriptor ports select the command: ``desc`` (a GEMM, `nmsat.hw.core.Core` unchanged), ``topn_desc``
(`TopNEngine`) and ``update_desc`` (`UpdateEngine`). A port's ``ready`` is high only while all three are
idle and no earlier port (in that order) holds a valid descriptor, so one command runs at a time; the one
accepted owns the AXI4 port until its ``done`` (every unit finishes its transfers before ``done``).
``done`` is the OR of the three. Other ports: the memory's ``dbg_*`` back door, as
`nmsat.hw.tb.system.System`.
"""

from amaranth import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from nmsat.hw.control.loop_engine import descriptor_layout
from nmsat.hw.core import READ_CHANNELS, WRITE_CHANNELS, Core
from nmsat.hw.memory.sim_memory import SimMemory
from nmsat.hw.update.topn_engine import TopNEngine, topn_descriptor_layout
from nmsat.hw.update.update_engine import UpdateEngine, update_descriptor_layout

_FROM_MEMORY = ("arready", "rid", "rdata", "rresp", "rlast", "rvalid", "awready", "wready", "bid", "bresp",
                "bvalid")
UNITS = ("desc", "topn_desc", "update_desc")


class TrainSystem(wiring.Component):
    """Core + top-N engine + update engine + `words` words of memory (initial contents `init`)."""

    def __init__(self, params, words, init=()):
        self.p = params
        self.units = {"desc": Core(params), "topn_desc": TopNEngine(params), "update_desc": UpdateEngine(params)}
        depth = max(params.outstanding, self.units["topn_desc"].outstanding, self.units["update_desc"].outstanding)
        self.memory = SimMemory(params.bus_bytes, words, params.read_latency, params.write_latency, depth, init)
        super().__init__({
            "desc": In(stream.Signature(descriptor_layout(params))),
            "topn_desc": In(stream.Signature(topn_descriptor_layout(params))),
            "update_desc": In(stream.Signature(update_descriptor_layout(params))),
            "done": Out(1),
            "dbg_we": In(1), "dbg_addr": In(self.memory.addr_bits), "dbg_wdata": In(params.bus_bits),
            "dbg_rdata": Out(params.bus_bits),
        })

    def elaborate(self, platform):
        m = Module()
        mem = self.memory
        m.submodules.memory = mem
        idle = Signal()
        for name, unit in self.units.items():
            m.submodules[name.replace("desc", "unit")] = unit
        m.d.comb += idle.eq(Cat(*(u.desc.ready for u in self.units.values())).all())
        owner = Signal(range(len(UNITS)))
        earlier = Const(0, 1)  # a valid descriptor on an earlier port (desc > topn_desc > update_desc) goes first
        for i, (name, unit) in enumerate(self.units.items()):
            port = getattr(self, name)
            ready = idle & ~earlier
            accept = port.valid & ready
            m.d.comb += [unit.desc.payload.eq(port.payload), unit.desc.valid.eq(accept), port.ready.eq(ready)]
            earlier = earlier | port.valid
            with m.If(accept):
                m.d.sync += owner.eq(i)
            for ch in READ_CHANNELS + WRITE_CHANNELS:
                theirs, ours = getattr(unit.axi, ch), getattr(mem.axi, ch)
                if ch in _FROM_MEMORY:
                    m.d.comb += theirs.eq(ours & (owner == i) if len(ours) == 1 and ch.endswith(("valid", "ready"))
                                          else ours)
                else:
                    with m.If(owner == i):
                        m.d.comb += ours.eq(theirs)
        m.d.comb += [self.done.eq(sum(u.done for u in self.units.values()) != 0),
                     mem.dbg_we.eq(self.dbg_we), mem.dbg_addr.eq(self.dbg_addr),
                     mem.dbg_wdata.eq(self.dbg_wdata), self.dbg_rdata.eq(mem.dbg_rdata)]
        return m
