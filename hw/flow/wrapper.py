"""A 4-pin wrapper that makes every path of a many-port block register to register, for place-and-route.

A serial shift chain (fed by pin ``si``) drives every input port of the block; every output port is
captured in a register, and the captures are folded (XOR, 32 bits at a time) into a rotating signature
register whose top bit is pin ``so``. So a block with thousands of ports fits a package, nothing of it
is optimised away, and its timing is measured between registers as inside a larger design.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

SIGNATURE_WIDTH = 32


def port_bits(block):
    """(input bits, output bits) of `block`'s signature, flattened."""
    ins = outs = 0
    for _, member, value in block.signature.flatten(block):
        if member.flow == In:
            ins += len(Cat(value))
        else:
            outs += len(Cat(value))
    return ins, outs


class ShiftWrapper(wiring.Component):
    """`block` with its inputs fed from a shift chain and its outputs folded into a signature register."""

    si: In(1)
    so: Out(1)

    def __init__(self, block):
        self.block = block
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.block = block = self.block
        ins, outs = [], []
        for _, member, value in block.signature.flatten(block):
            (ins if member.flow == In else outs).append(value)
        chain = Signal(max(1, sum(len(Cat(v)) for v in ins)), reset_less=True)
        m.d.sync += chain.eq(Cat(self.si, chain[:-1]))
        offset = 0
        for value in ins:
            width = len(Cat(value))
            m.d.comb += Cat(value).eq(chain[offset:offset + width])
            offset += width
        captured = Signal(len(Cat(*outs)), reset_less=True)
        m.d.sync += captured.eq(Cat(*outs))
        fold = 0
        for start in range(0, len(captured), SIGNATURE_WIDTH):
            fold ^= captured[start:start + SIGNATURE_WIDTH]
        signature = Signal(SIGNATURE_WIDTH, reset_less=True)
        m.d.sync += signature.eq(Cat(signature[-1], signature[:-1]) ^ fold)
        m.d.comb += self.so.eq(signature[-1])
        return m
