"""Run one descriptor on a training engine in Amaranth's own simulator (small cases and debugging)."""

from nmsat.hw.driver import image_words
from nmsat.hw.tb.pysim_gemm import run_descriptor_pysim
from nmsat.hw.update.system import EngineSystem


def run_engine_pysim(engine, p, image, word, max_cycles=200_000):
    """Run descriptor `word` on `engine` over memory `image` (bytes); returns ``(image after, cycles)``
    (cycles: descriptor edge to the edge that samples ``done``)."""
    words = image_words(image, p.bus_bytes)
    dut = EngineSystem(engine, p, len(words), words)
    return run_descriptor_pysim(dut, word, len(words), p.bus_bytes, max_cycles)
