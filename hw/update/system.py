"""A training engine with the deterministic memory model behind its AXI4 port: the device under test of
its testbenches (ports ``desc__*``, ``done`` and the memory's ``dbg_*``, as `nmsat.hw.tb.system.System`, so
the GEMM testbench `nmsat.hw.tb.tb_gemm` drives it unchanged)."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from nmsat.hw.memory.sim_memory import SimMemory


class EngineSystem(wiring.Component):
    """`engine` (a component with ``desc``, ``axi``, ``done``) + `words` words of memory (initial `init`)."""

    def __init__(self, engine, params, words, init=()):
        self.engine = engine
        depth = max(params.outstanding, getattr(engine, "outstanding", 0))  # read bursts the engine keeps in flight
        self.memory = SimMemory(params.bus_bytes, words, params.read_latency, params.write_latency, depth, init)
        super().__init__({
            "desc": In(stream.Signature(engine.desc.payload.shape())), "done": Out(1),
            "dbg_we": In(1), "dbg_addr": In(self.memory.addr_bits), "dbg_wdata": In(params.bus_bits),
            "dbg_rdata": Out(params.bus_bits),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine, m.submodules.memory = self.engine, self.memory
        connect(m, wiring.flipped(self.desc), self.engine.desc)
        connect(m, self.engine.axi, self.memory.axi)
        mem = self.memory
        m.d.comb += [self.done.eq(self.engine.done), mem.dbg_we.eq(self.dbg_we), mem.dbg_addr.eq(self.dbg_addr),
                     mem.dbg_wdata.eq(self.dbg_wdata), self.dbg_rdata.eq(mem.dbg_rdata)]
        return m
