"""Replicated control registers: one register as several copies, each driving a share of its loads.

A register that enables hundreds of flip-flops spread over the chip is one net, and on an ECP5 its routing
alone took 11-14 ns (the bf16 core's worst paths). Copies, each loading the same value, are placed beside
their share of the loads. Synthesis merges registers that compute the same function, so each copy's wire
carries ``keep``: the synthesis flows (`nmsat.hw.flow.yosys.KEEP_REGISTERS`) give the register behind such a
wire the ``keep`` attribute, which Yosys's ``opt_merge`` honours (Vivado and Quartus honour ``keep`` on a
register as Amaranth writes it into the Verilog).
"""

from amaranth import Cat, Signal, Value

LOADS_PER_COPY = 64


def copies_for(loads):
    """How many copies share `loads` flip-flops at `LOADS_PER_COPY` each."""
    return max(1, -(-loads // LOADS_PER_COPY))


def replicate(m, name, value, loads, init=0, enable=None):
    """Registers (``copies_for(loads)`` of them) that each load `value`, every cycle or where `enable` is high."""
    out = []
    for i in range(copies_for(loads)):
        copy = Signal(Value.cast(value).shape(), name=f"{name}_r{i}", init=init, attrs={"keep": 1})
        with m.If(1 if enable is None else enable):
            m.d.sync += copy.eq(value)
        out.append(copy)
    return out


def replicate_each(m, name, copies):
    """Each of `copies` (copies of one register) registered a cycle later, as copies Yosys keeps apart."""
    out = []
    for i, value in enumerate(copies):
        copy = Signal(Value.cast(value).shape(), name=f"{name}{i}", attrs={"keep": 1})
        m.d.sync += copy.eq(value)
        out.append(copy)
    return out


def share(copies, index, count):
    """The copy that load `index` of `count` uses: consecutive loads share a copy."""
    return copies[index * len(copies) // count]


def load_split(m, enables, pairs):
    """``target <= value`` for each ``(target, value)`` of `pairs` in the cycles where its enable is high: the
    targets' bits, end to end, split into ``len(enables)`` equal slices, slice i enabled by ``enables[i]``
    (copies of one register)."""
    targets, values = [], []
    for target, value in pairs:
        t = Value.cast(target)
        v = Signal(len(t))
        m.d.comb += v.eq(value)  # `value` extended or cut to the target's width, as `eq` does
        targets.append(t)
        values.append(v)
    t, v = Cat(*targets), Cat(*values)
    for i, en in enumerate(enables):
        lo, hi = i * len(t) // len(enables), (i + 1) * len(t) // len(enables)
        with m.If(en):
            m.d.sync += t[lo:hi].eq(v[lo:hi])


def load_when(m, name, enable_next, pairs, init=0):
    """`load_split` with its enable a register loaded with `enable_next` (initial value `init`), replicated for
    the targets' bits."""
    width = sum(len(Value.cast(t)) for t, _ in pairs)
    load_split(m, replicate(m, name, enable_next, width, init), pairs)
