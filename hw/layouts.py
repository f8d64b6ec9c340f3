"""Bit layouts shared by the RTL blocks (documented in docs/hw-interface.md)."""

from amaranth import Shape, signed, unsigned
from amaranth.lib import data

from nmsat.hw.replicas import copies_for


def weight_layout(p):
    """One PE's weights: `P` values (signed D bits) then `P` in-group indices (IB bits), LSB first."""
    return data.StructLayout({"val": data.ArrayLayout(signed(p.data_width), p.mults),
                              "idx": data.ArrayLayout(unsigned(p.idx_width), p.mults)})


def keep_loads(p):
    """The registers a PE loads with a kept weight word: its values and indices (or what they become), ``top``."""
    return Shape.cast(weight_layout(p)).width + 1


def keep_copies(p):
    """Copies of a weight word's ``keep`` bit: one per `LOADS_PER_COPY` of the `keep_loads` registers."""
    return copies_for(keep_loads(p))


def weight_word_layout(p):
    """A weight word flowing down a column: the weights, the tile's mode, whether the PE that keeps it starts
    a row group (``top``), the rows left to travel (``hops``), ``valid``, and ``keep`` (`keep_copies` bits,
    all equal): whether the PE it enters keeps it (``valid`` and ``hops == 0``), decided by the register
    that sends it."""
    return data.StructLayout({"w": weight_layout(p), "mode": p.mode_width, "top": 1,
                              "hops": max(1, (p.rows - 1).bit_length()), "valid": 1, "keep": keep_copies(p)})


def act_layout(p):
    """One array row's activation window: `e_max` signed D-bit elements, element 0 at the LSB."""
    return data.ArrayLayout(signed(p.data_width), p.e_max)


def weight_row_layout(p):
    """The array's weight input: column c's `weight_word_layout`."""
    return data.ArrayLayout(weight_word_layout(p), p.cols)


def act_row_layout(p):
    """The array's activation input: array row r's window."""
    return data.ArrayLayout(act_layout(p), p.rows)


def out_slot_layout(p):
    """One group's slot of an output row: column c's signed A-bit result at bit ``c * A``."""
    return data.ArrayLayout(signed(p.acc_width), p.cols)


def out_row_layout(p):
    """The array's output: `max_groups` slots, slot g (group g's `out_slot_layout`)."""
    return data.ArrayLayout(out_slot_layout(p), p.max_groups)
