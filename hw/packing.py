"""Stream payloads as integers (the bit layouts of docs/hw-interface.md), for testbenches and drivers."""

import numpy as np


def _pack(fields):
    """Pack ``(value, width)`` pairs, first pair at the LSB; values are wrapped to their width."""
    word, pos = 0, 0
    for value, width in fields:
        word |= (int(value) & ((1 << width) - 1)) << pos
        pos += width
    return word


def _signed(value, width):
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def pack_command(p, dataflow, mode, count, accumulate, drain, groups=1):
    """Command word: os (1), accumulate (1), drain (1), mode (mode_width), count (count_width),
    groups (group_width, holding log2 of the WS row-group count `groups`; 0 in OS)."""
    if not 0 <= count < (1 << p.count_width):
        raise ValueError(f"count {count} does not fit {p.count_width} bits")
    if groups not in p.group_sizes:
        raise ValueError(f"groups {groups}: the core runs {', '.join(map(str, p.group_sizes))}")
    return _pack([(dataflow == "os", 1), (accumulate, 1), (drain, 1), (mode, p.mode_width),
                  (count, p.count_width), (groups.bit_length() - 1, p.group_width)])


def pack_weight_row(p, values, indices):
    """Weight row from ``values[C, P]`` and ``indices[C, P]``: per column P values (D bits) then P indices."""
    fields = []
    for c in range(p.cols):
        fields += [(v, p.data_width) for v in values[c]] + [(i, p.idx_width) for i in indices[c]]
    return _pack(fields)


def pack_act_row(p, windows):
    """Activation row from ``windows[R, E]`` (E <= e_max); elements past E are sent as zero."""
    windows = np.asarray(windows)
    padded = np.zeros((p.rows, p.e_max), dtype=np.int64)
    padded[:, : windows.shape[1]] = windows
    return _pack((v, p.data_width) for v in padded.reshape(-1))


def unpack_out_row(p, word):
    """Output row word -> ``[max_groups, C]`` signed A-bit integers (slot g, column c)."""
    n = p.max_groups * p.cols
    flat = [_signed(word >> (i * p.acc_width), p.acc_width) for i in range(n)]
    return np.array(flat, dtype=np.int64).reshape(p.max_groups, p.cols)
