"""cocotb driver and monitor of the core: runs a list of tiles, returns measured cycles and output rows.

Parameters (`load_params`): ``seed``, ``idle`` (probability a source holds valid low in a cycle),
``stall`` (probability the sink holds ready low), ``max_cycles`` (timeout) and
``tiles``: ``[{"cmd", "wrows", "arows", "drain_rows"}]``.
A tile's loads start once the previous command is accepted, so they meet back-pressure while it runs.
Outputs (`save_outputs`): per tile ``cycles`` (done edge - command edge), ``back_to_back`` (command
accepted in the previous tile's last cycle) and, when drained, ``rows``.
Checking against the reference is the caller's job (`nmsat.hw.validate`).
"""

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from nmsat.hw.cocotb_sim import clock_and_reset, load_params, save_outputs


def _bit(handle):
    return int(handle.value) == 1


class _Source:
    """A valid/ready source that holds valid low at random."""

    def __init__(self, dut, name, rng, idle):
        self.valid, self.ready = getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready")
        self.payload, self.rng, self.idle, self.queue = getattr(dut, f"{name}__payload"), rng, idle, []

    def drive(self, allowed):
        on = allowed and bool(self.queue) and self.rng.random() >= self.idle
        self.valid.value = int(on)
        if on:
            self.payload.value = self.queue[0]

    def fired(self):
        """In ReadOnly: whether the upcoming edge is a handshake (and consume the item if so)."""
        if _bit(self.valid) and _bit(self.ready):
            self.queue.pop(0)
            return True
        return False


@cocotb.test()
async def run_tiles(dut):
    params = load_params()
    rng = random.Random(params["seed"])
    tiles = params["tiles"]
    wload, aload = _Source(dut, "wload", rng, params["idle"]), _Source(dut, "aload", rng, params["idle"])
    cmd = _Source(dut, "cmd", rng, params["idle"])
    for src in (wload, aload, cmd):
        src.valid.value = 0
    dut.out__ready.value = 0
    await clock_and_reset(dut)

    hs, done, rows = [], [], []
    loaded, cycle = -1, 0
    expect_rows = sum(t["drain_rows"] for t in tiles)
    limit = params["max_cycles"]
    while len(done) < len(tiles) or len(rows) < expect_rows:
        assert cycle < limit, f"timeout at cycle {cycle}: {len(hs)} cmds, {len(done)} done, {len(rows)} rows"
        if loaded + 1 < len(tiles) and loaded < len(hs) and not wload.queue and not aload.queue:
            loaded += 1  # the next tile's loads may start once the previous command was accepted
            wload.queue, aload.queue = list(tiles[loaded]["wrows"]), list(tiles[loaded]["arows"])
            cmd.queue = [tiles[loaded]["cmd"]]
        wload.drive(True)
        aload.drive(True)
        cmd.drive(not wload.queue and not aload.queue and len(hs) == loaded)
        dut.out__ready.value = int(rng.random() >= params["stall"])
        await ReadOnly()
        wload.fired()
        aload.fired()
        if cmd.fired():
            hs.append(cycle)
        if _bit(dut.done):
            assert len(done) < len(hs), f"done at cycle {cycle} without a running tile"
            done.append(cycle)
        if _bit(dut.out__valid) and _bit(dut.out__ready):
            rows.append(dut.out__payload.value.to_unsigned())
        await FallingEdge(dut.clk)
        cycle += 1

    out, pos = [], 0
    for i, (tile, h, d) in enumerate(zip(tiles, hs, done, strict=True)):
        back_to_back = i > 0 and h == done[i - 1]  # accepted in the previous tile's last cycle
        drained = rows[pos: pos + tile["drain_rows"]]
        out.append({"cycles": d - h, "back_to_back": back_to_back, "rows": drained})
        pos += tile["drain_rows"]
    save_outputs(out)
