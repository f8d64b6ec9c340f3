"""The device under test of the whole-GEMM testbenches: the core with the deterministic memory model
(`nmsat.hw.memory.sim_memory.SimMemory`) behind its AXI4 port, so a GEMM runs with no testbench code
on the per-cycle path. Top-level ports: ``desc__*`` and ``done`` of the core, ``dbg_*`` of the memory."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from nmsat.hw.control.loop_engine import descriptor_layout
from nmsat.hw.core import Core
from nmsat.hw.memory.sim_memory import SimMemory


class System(wiring.Component):
    """Core + `words` words of memory (initial contents `init`, for Amaranth-simulator runs)."""

    def __init__(self, params, words, init=()):
        self.p = params
        self.core = Core(params)
        self.memory = SimMemory(params.bus_bytes, words, params.read_latency, params.write_latency,
                                params.outstanding, init)
        super().__init__({
            "desc": In(stream.Signature(descriptor_layout(params))), "done": Out(1),
            "dbg_we": In(1), "dbg_addr": In(self.memory.addr_bits), "dbg_wdata": In(params.bus_bits),
            "dbg_rdata": Out(params.bus_bits),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core, m.submodules.memory = self.core, self.memory
        connect(m, wiring.flipped(self.desc), self.core.desc)
        connect(m, self.core.axi, self.memory.axi)
        mem = self.memory
        m.d.comb += [self.done.eq(self.core.done), mem.dbg_we.eq(self.dbg_we), mem.dbg_addr.eq(self.dbg_addr),
                     mem.dbg_wdata.eq(self.dbg_wdata), self.dbg_rdata.eq(mem.dbg_rdata)]
        return m
