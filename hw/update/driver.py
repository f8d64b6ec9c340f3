"""Host side of the training engines: descriptors (fields and packed words) and memory images."""

from amaranth import Shape

from nmsat.hw.driver import pack_words
from nmsat.hw.update.topn_engine import topn_descriptor_layout
from nmsat.sim.tiling import cdiv


def fields_of(layout):
    """``[(name, width)]`` of a descriptor layout in bit order (LSB first)."""
    return [(name, Shape.cast(shape).width) for name, shape in layout.members.items()]


def pack_fields(layout, fields):
    """The descriptor word (int) of `fields` (dict), LSB first in `layout`'s order."""
    return pack_words(fields_of(layout), fields)


def topn_descriptor(p, job):
    """The top-N descriptor's fields (dict) of a `nmsat.sim.topn_engine.TopNJob`."""
    e = p.window(job.mode)
    nbk, win = cdiv(job.n, p.cols), cdiv(job.k, e)
    return {"mode": job.mode, "transpose": int(job.transpose), "n_blocks": nbk, "last_cols": job.n - (nbk - 1) * p.cols,
            "windows": win, "last_elems": job.k - (win - 1) * e, "src_base": job.src_base,
            "src_stride": job.src_stride, "dst_base": job.dst_base, "dst_stride": job.dst_stride}


def topn_word(p, job):
    return pack_fields(topn_descriptor_layout(p), topn_descriptor(p, job))


def update_descriptor(p, rows, cols, where, first, mode, decay, wd, mu, neg_lr):
    """The update descriptor's fields (dict): `where` maps ``g_base, g_stride, w_base, ...`` to bytes; the
    hyper-parameters are fp32 bit patterns."""
    return {"mode": mode, "first": int(first), "rows": rows, "cols": cols, **where,
            "decay": decay, "wd": wd, "mu": mu, "neg_lr": neg_lr}


def update_word(p, fields):
    from nmsat.hw.update.update_engine import update_descriptor_layout

    return pack_fields(update_descriptor_layout(p), fields)
