"""The AXI4 manager port of the core (1-bit IDs, always 0, so every transfer is in order; no lock, cache, prot,
QoS, region or user signals).

Port names are ``axi__<signal>`` in the Verilog (``axi__araddr``, ``axi__rvalid``, ...), the names
cocotbext-axi's ``AxiBus.from_prefix(dut, "axi_")`` looks for. Bursts are INCR, full width
(``size = log2(bus_bytes)``), at most 256 beats, and never cross a 4 KiB boundary.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from nmsat.core_params import ADDR_WIDTH


def axi_signature(bus_bytes):
    """AXI4 manager signature (Out = driven by the core) for a `bus_bytes`-byte data bus."""
    bits = 8 * bus_bytes
    return wiring.Signature({
        "arid": Out(1), "araddr": Out(ADDR_WIDTH), "arlen": Out(8), "arsize": Out(3), "arburst": Out(2),
        "arvalid": Out(1), "arready": In(1),
        "rid": In(1), "rdata": In(bits), "rresp": In(2), "rlast": In(1), "rvalid": In(1), "rready": Out(1),
        "awid": Out(1), "awaddr": Out(ADDR_WIDTH), "awlen": Out(8), "awsize": Out(3), "awburst": Out(2),
        "awvalid": Out(1), "awready": In(1),
        "wdata": Out(bits), "wstrb": Out(bus_bytes), "wlast": Out(1), "wvalid": Out(1), "wready": In(1),
        "bid": In(1), "bresp": In(2), "bvalid": In(1), "bready": Out(1),
    })


def burst_beats(addr, remaining, bus_bytes, page_bits=12):
    """Beats of the next burst at byte address `addr` (Amaranth values): at most `remaining`, 256, and
    the beats left before the next 4 KiB boundary."""
    from amaranth import Mux

    from nmsat.core_params import MAX_BURST, PAGE

    shift = bus_bytes.bit_length() - 1
    to_page = (PAGE - addr[:page_bits]) >> shift
    first = Mux(remaining < to_page, remaining, to_page)
    return Mux(first < MAX_BURST, first, MAX_BURST)


def page_cap(addr, bus_bytes):
    """``min(beats to the next 4 KiB boundary from addr, 256)`` (at least 1): narrow arithmetic on the
    address's offset in its page only."""
    from amaranth import Mux

    from nmsat.core_params import MAX_BURST, PAGE

    shift = bus_bytes.bit_length() - 1
    beats = PAGE >> shift  # beats in a page
    to_page = beats - addr[shift:12]
    return Mux(to_page > MAX_BURST, MAX_BURST, to_page) if beats > MAX_BURST else to_page


def cap_after(addr, bus_bytes):
    """`page_cap` at ``addr + page_cap(addr)`` beats (where a burst that `page_cap` cut off goes on), from
    `addr`'s page offset alone: the next page's start, or 256 beats on in the same page."""
    from amaranth import Mux

    from nmsat.core_params import MAX_BURST, PAGE

    shift = bus_bytes.bit_length() - 1
    beats = PAGE >> shift
    if beats <= MAX_BURST:
        return beats
    off = addr[shift:12]
    rest = beats - MAX_BURST - off  # beats to the boundary after 256 more
    return Mux(off >= beats - MAX_BURST, MAX_BURST, Mux(rest > MAX_BURST, MAX_BURST, rest))
