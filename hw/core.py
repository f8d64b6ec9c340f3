"""The core: one GEMM per descriptor, run from memory through an AXI4 port (docs/hw-interface.md).

Loop engine > (tile engine > systolic array) + read DMA + write DMA, around ping-pong scratchpads:
weights and activations (two banks each: one written by the read DMA while the tile engine reads the
other) and one output memory per row-group slot (two banks: one accumulated by the tile engine while
the write DMA drains the other).
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, connect

from nmsat.hw.control.loop_engine import COUNT_WIDTH, LoopEngine, descriptor_layout
from nmsat.hw.control.tile_engine import TileEngine
from nmsat.hw.layouts import out_slot_layout
from nmsat.hw.memory.axi import axi_signature
from nmsat.hw.memory.read_dma import ReadDMA
from nmsat.hw.memory.write_dma import WriteDMA

READ_CHANNELS = ("arid", "rid", "araddr", "arlen", "arsize", "arburst", "arvalid", "arready", "rdata", "rresp",
                 "rlast", "rvalid", "rready")
WRITE_CHANNELS = ("awid", "bid", "awaddr", "awlen", "awsize", "awburst", "awvalid", "awready", "wdata", "wstrb",
                  "wlast", "wvalid", "wready", "bresp", "bvalid", "bready")


class Core(wiring.Component):
    """``desc`` (valid/ready) in; ``done`` high for one cycle when the GEMM's last write is answered."""

    def __init__(self, params):
        self.p = params
        super().__init__({
            "desc": In(stream.Signature(descriptor_layout(params))),
            "axi": Out(axi_signature(params.bus_bytes)),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p, cw = self.p, COUNT_WIDTH
        m.submodules.loop = loop = LoopEngine(p)
        m.submodules.tiles = tiles = TileEngine(p, cw)
        m.submodules.reader = reader = ReadDMA(p, cw)
        m.submodules.writer = writer = WriteDMA(p, cw)
        connect(m, wiring.flipped(self.desc), loop.desc)
        m.d.comb += [
            self.done.eq(loop.done),
            tiles.go.eq(loop.tile_go), tiles.tile.eq(loop.tile), loop.tile_ready.eq(tiles.ready),
            reader.go.eq(loop.load_go), reader.job.eq(loop.load), loop.load_busy.eq(reader.busy),
            writer.go.eq(loop.store_go), writer.job.eq(loop.store), loop.store_busy.eq(writer.busy),
            loop.store_pending.eq(writer.pending), loop.tile_ready_next.eq(tiles.ready_next),
            loop.load_busy_next.eq(reader.busy_next), loop.store_busy_next.eq(writer.busy_next),
        ]
        for name in READ_CHANNELS:
            a, b = getattr(self.axi, name), getattr(reader.axi, name)
            m.d.comb += (b.eq(a) if name in ("arready", "rid", "rdata", "rresp", "rlast", "rvalid") else a.eq(b))
        for name in WRITE_CHANNELS:
            a, b = getattr(self.axi, name), getattr(writer.axi, name)
            m.d.comb += (b.eq(a) if name in ("awready", "wready", "bid", "bresp", "bvalid") else a.eq(b))

        # The weight and activation scratchpads are block RAM (one write, one read port): as LUT-RAM, their read
        # address fans out to every LUT-RAM cell of a row (hundreds), and that net alone took 12 ns to route.
        block = {"ram_style": "block"}
        m.submodules.wmem = wmem = Memory(shape=p.w_row_bits, depth=2 * p.w_depth, init=[], attrs=block)
        m.submodules.amem = amem = Memory(shape=p.a_row_bits, depth=2 * p.a_depth, init=[], attrs=block)
        for mem, name in ((wmem, "w"), (amem, "a")):
            wr, rd = mem.write_port(granularity=p.bus_bits), mem.read_port()
            m.d.comb += [wr.addr.eq(getattr(reader, f"{name}_addr")), wr.en.eq(getattr(reader, f"{name}_en")),
                         wr.data.eq(getattr(reader, f"{name}_data")),
                         rd.addr.eq(getattr(tiles, f"{name}_addr")), rd.en.eq(getattr(tiles, f"{name}_en")),
                         getattr(tiles, f"{name}_data").eq(rd.data)]
        for g in range(p.max_groups):
            omem = Memory(shape=out_slot_layout(p), depth=2 * p.o_depth, init=[])
            m.submodules[f"omem{g}"] = omem
            wr = omem.write_port()
            rd, drain = omem.read_port(), omem.read_port(transparent_for=(wr,))  # a row written as it drains
            m.d.comb += [wr.addr.eq(tiles.o_waddr[g]), wr.en.eq(tiles.o_wen[g]), wr.data.eq(tiles.o_wdata[g]),
                         rd.addr.eq(tiles.o_raddr[g]), rd.en.eq(tiles.o_ren[g]), tiles.o_rdata[g].eq(rd.data),
                         drain.addr.eq(writer.o_addr[g]), writer.o_data[g].eq(drain.data)]
        return m
