"""The deterministic memory of the testbenches: an AXI4 subordinate over a RAM, in HDL, so that whole GEMMs
simulate without Python on the per-cycle path. `nmsat.sim` models exactly this timing.

Reads: ``arready`` is always high and up to `depth` bursts queue in order; the first beat of a burst whose
address handshake is in cycle ``t`` is on ``rdata`` in cycle ``max(t + read_latency, end of the previous
burst)``, then one beat per cycle while ``rready`` (a low ``rready`` holds the beat). Writes: a burst's
address and its first data beat may come in the same cycle; ``wready`` is high once the burst's address is
known (``awvalid`` or accepted); beats are written with their byte strobes; the response comes
``write_latency`` cycles after the last beat (queued in order while ``bready`` is low). ``rresp``/``bresp``
are OKAY. Back door for testbenches: ``dbg_we``/``dbg_addr``/``dbg_wdata`` write a word when no AXI write
beat is in that cycle; ``dbg_rdata`` is word ``dbg_addr`` of the previous cycle.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from nmsat.hw.memory.axi import axi_signature

_TIME = 32


class SimMemory(wiring.Component):
    """RAM of `words` words of `bus_bytes` bytes (initial contents `init`) behind an AXI4 subordinate port."""

    def __init__(self, bus_bytes, words, read_latency, write_latency, depth, init=()):
        """`depth`: read bursts the queue holds (the core keeps at most `CoreParams.outstanding` in flight)."""
        self.bus_bytes, self.words, self.init = bus_bytes, words, list(init)
        self.read_latency, self.write_latency, self.depth = read_latency, write_latency, depth
        self.addr_bits = max(1, (words - 1).bit_length())
        super().__init__({
            "axi": In(axi_signature(bus_bytes)),
            "dbg_we": In(1), "dbg_addr": In(self.addr_bits), "dbg_wdata": In(8 * bus_bytes),
            "dbg_rdata": Out(8 * bus_bytes),
        })

    def elaborate(self, platform):
        m = Module()
        axi, bits, shift = self.axi, 8 * self.bus_bytes, self.bus_bytes.bit_length() - 1
        ab = self.addr_bits
        m.submodules.ram = ram = Memory(shape=bits, depth=self.words, init=self.init)
        self.ram = ram
        rd, dbg_rd = ram.read_port(), ram.read_port()
        wr = ram.write_port(granularity=8)
        now = Signal(_TIME)
        m.d.sync += now.eq(now + 1)
        m.d.comb += [dbg_rd.addr.eq(self.dbg_addr), self.dbg_rdata.eq(dbg_rd.data),
                     axi.arready.eq(1), axi.rresp.eq(0), axi.bresp.eq(0)]

        # Read: address queue with due times; one burst at a time, one beat per cycle.
        m.submodules.arq = arq = SyncFIFO(width=_TIME + ab + 8, depth=self.depth)
        due = (now + self.read_latency - 1)[:_TIME]  # the cycle the first beat's RAM read is issued
        m.d.comb += [arq.w_en.eq(axi.arvalid), arq.w_data.eq(Cat(due, (axi.araddr >> shift)[:ab], axi.arlen))]
        r_addr, r_left, r_busy = Signal(ab), Signal(9), Signal()
        head_due, head_addr, head_len = arq.r_data[:_TIME], arq.r_data[_TIME:_TIME + ab], arq.r_data[_TIME + ab:]
        advance = ~axi.rvalid | axi.rready
        start = ~r_busy & arq.r_rdy & (now >= head_due)
        issue = advance & (r_busy | start)
        addr = Mux(r_busy, r_addr, head_addr)
        left = Mux(r_busy, r_left, head_len + 1)
        m.d.comb += [rd.en.eq(issue), rd.addr.eq(addr), arq.r_en.eq(advance & start), axi.rdata.eq(rd.data)]
        with m.If(advance):
            m.d.sync += [axi.rvalid.eq(issue), axi.rlast.eq(issue & (left == 1))]
            with m.If(issue):
                m.d.sync += [r_addr.eq(addr + 1), r_left.eq(left - 1), r_busy.eq(left != 1)]

        # Write: one burst address held; beats written with strobes; responses queued with due times.
        w_pending, w_addr = Signal(), Signal(ab)
        fire = axi.wvalid & axi.wready
        m.d.comb += [axi.awready.eq(~w_pending | (fire & axi.wlast)),
                     axi.wready.eq(w_pending | axi.awvalid)]
        new_addr = (axi.awaddr >> shift)[:ab]
        beat_addr = Mux(w_pending, w_addr, new_addr)
        aw_fire = axi.awvalid & axi.awready
        with m.If(w_pending):
            with m.If(fire):
                m.d.sync += w_addr.eq(w_addr + 1)
                with m.If(axi.wlast):  # the burst ends; a new address may be accepted in this cycle
                    m.d.sync += [w_pending.eq(aw_fire), w_addr.eq(new_addr)]
        with m.Elif(aw_fire):
            m.d.sync += [w_pending.eq(~(fire & axi.wlast)), w_addr.eq(Mux(fire, new_addr + 1, new_addr))]
        m.d.comb += [wr.addr.eq(Mux(fire, beat_addr, self.dbg_addr)),
                     wr.data.eq(Mux(fire, axi.wdata, self.dbg_wdata)),
                     wr.en.eq(Mux(fire, axi.wstrb, Mux(self.dbg_we, (1 << self.bus_bytes) - 1, 0)))]
        m.submodules.bq = bq = SyncFIFO(width=_TIME, depth=self.write_latency + 4)  # one burst ends per cycle at most
        m.d.comb += [bq.w_en.eq(fire & axi.wlast), bq.w_data.eq(now + self.write_latency),
                     axi.bvalid.eq(bq.r_rdy & (now >= bq.r_data)), bq.r_en.eq(axi.bvalid & axi.bready)]
        return m
