"""A BDWP training step of a bias-free ReLU MLP on `TrainSystem`: the host program and its exact reference.

What runs on the RTL (`nmsat.hw.update.train_system.TrainSystem`, bf16 GEMM core + top-N + update engines,
one AXI4 port, one memory): per step, the top-N engine turns every layer's fp32 master weights into its FF
operand (N:M along the input channels) and, except for the first layer, its BP operand (W^T, N:M along the
output channels); the GEMM core runs every FF, BP and WG GEMM (bf16 x bf16 -> fp32); the update engine
applies SGD with momentum, weight decay and the SR-STE term to the master weights and momenta. What runs in
the testbench (`host_*`, numpy, no hardware for it yet): ReLU and its derivative, the softmax cross-entropy
gradient, rounding fp32 results to bf16 operands, and laying out the transposed operands of the WG GEMMs.

`program` is a generator of requests to the testbench: ``("write", {word: value})``, ``("run", port, word,
model_cycles)`` (answered with the command's cycles; `model_cycles` is what `nmsat.sim` says it takes) and
``("read", first_word, count)`` (answered with the words).
`reference` computes the same steps with the exact models (`golden_gemm_fp_array`, `nmsat.nm`,
`update_reference`), so the RTL's weights, momenta and masks must equal it bit for bit.
"""

from dataclasses import dataclass

import numpy as np

from nmsat.hw.driver import descriptor, pack_descriptor, place, read_weight_rows, write_operands
from nmsat.hw.update.driver import topn_word, update_descriptor, update_word
from nmsat.hw.update.validate import read_matrix
from nmsat.nm import nm_mask
from nmsat.sim.engine import gemm_cycles
from nmsat.sim.fp import bf16_bits, f32_bits, f32_value
from nmsat.sim.gemm_plan import plan_gemm
from nmsat.sim.golden import golden_gemm_fp_array
from nmsat.sim.tiling import cdiv
from nmsat.sim.topn_engine import topn_engine_cycles, topn_job
from nmsat.sim.update_engine import update_engine_cycles, update_reference


@dataclass(frozen=True)
class Hyper:
    """SGD hyper-parameters (as `torch.optim.SGD`) and the SR-STE decay of `nmsat.algo`."""

    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    decay: float = 2e-4

    def bits(self):
        """(decay, wd, mu, -lr) as fp32 bit patterns, the update descriptor's scalars."""
        return tuple(int(f32_bits(np.float32(x))) for x in (self.decay, self.weight_decay, self.momentum, -self.lr))


def host_relu(h_bits):
    """(bf16 operand of the next layer, ReLU mask) from a layer's fp32 output bits."""
    h = f32_value(h_bits)
    return bf16_bits(np.maximum(h, np.float32(0))), h > 0


def host_loss_grad(z_bits, labels):
    """d(mean softmax cross-entropy)/dZ of fp32 logits, as fp32 (float64 inside, rounded once)."""
    z = f32_value(z_bits).astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(labels)), labels] -= 1.0
    return (g / len(labels)).astype(np.float32)


def _masked_bf16(w_bits, mask):
    """The N:M operand as the top-N engine writes it, as a dense bf16 matrix (pruned positions +0)."""
    return np.where(mask, bf16_bits(f32_value(w_bits)), np.uint16(0))


class Layout:
    """Byte addresses of everything in memory: per layer W, V, the FF / BP / WG GEMMs (A, B, Y regions)."""

    def __init__(self, cfg, p, dims, batch, pattern):
        self.cfg, self.p, self.dims, self.batch, self.pattern = cfg, p, dims, batch, pattern
        self.mode = p.mode_of(pattern)
        self.top = 0
        self.layers = []
        for i, (k_in, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            lay = {"shape": (n_out, k_in), "stride": self._row(k_in * 4)}
            lay["w"], lay["v"] = self._alloc(n_out * lay["stride"]), self._alloc(n_out * lay["stride"])
            lay["ff"] = self._gemm(cfg, batch, n_out, k_in, pattern)
            lay["wg"] = self._gemm(cfg, n_out, k_in, batch, None)
            lay["bp"] = self._gemm(cfg, batch, k_in, n_out, pattern) if i else None
            self.layers.append(lay)

    def _row(self, nbytes):
        return cdiv(nbytes, self.p.bus_bytes) * self.p.bus_bytes

    def _alloc(self, nbytes):
        base, self.top = self.top, self._row(self.top + nbytes)
        return base

    def _gemm(self, cfg, m, n, k, pattern):
        plan = plan_gemm(cfg, m, n, k, pattern, params=self.p)
        where = place(self.p, plan, base=self.top)
        self.top = self._row(where.y_base + m * where.y_stride)
        return plan, where


def _words(p, base, raw_rows, stride):
    """{word: value} writing the byte rows `raw_rows` [rows, nbytes] at `base` with `stride` (whole words,
    zero padded: the bytes past a row are don't-care in every layout used here)."""
    bb, out = p.bus_bytes, {}
    width = cdiv(raw_rows.shape[1], bb) * bb
    for r, row in enumerate(raw_rows):
        padded = np.zeros(width, dtype=np.uint8)
        padded[:len(row)] = row
        first = (base + r * stride) // bb
        for i in range(width // bb):
            out[first + i] = int.from_bytes(bytes(padded[i * bb:(i + 1) * bb]), "little")
    return out


def _bytes(x, dtype):
    return np.ascontiguousarray(np.asarray(x).astype(dtype)).view(np.uint8).reshape(np.asarray(x).shape[0], -1)


def _dense_b_words(p, plan, where, b_bits):
    """Words of a dense bf16 operand ``B[N, K]`` in weight rows (values only) at the plan's B region."""
    image = np.zeros(max(where.b_base + plan.n_blocks * where.b_stride, where.a_base + plan.m * where.a_stride),
                     dtype=np.uint8)
    write_operands(image, p, plan, where, np.zeros((plan.m, plan.k), dtype=np.uint16), b_bits, None)
    image = image[:where.b_base + plan.n_blocks * where.b_stride]
    rows = image[where.b_base:].reshape(-1, p.bus_bytes)
    return _words(p, where.b_base, rows, p.bus_bytes)


def program(lay, w0, batches, hyper, record):
    """The host program (see the module docstring); appends per step {w, v (fp32 bits after the update),
    ff, bp (the masks of the operands the top-N engine wrote, in W's orientation)} to `record`."""
    p, pattern, mode = lay.p, lay.pattern, lay.mode
    hp = hyper.bits()

    def read_image(lo, hi):
        """Memory bytes lo..hi read back, in an image addressed from 0 (zeros below lo)."""
        first = lo // p.bus_bytes
        words = yield ("read", first, cdiv(hi, p.bus_bytes) - first)
        raw = b"".join(int(w).to_bytes(p.bus_bytes, "little") for w in words)
        image = np.zeros(first * p.bus_bytes + len(raw), dtype=np.uint8)
        image[first * p.bus_bytes:] = np.frombuffer(raw, dtype=np.uint8)
        return image

    def read(base, stride, shape):
        image = yield from read_image(base, base + (shape[0] - 1) * stride + shape[1] * 4)
        return read_matrix(image, base, stride, shape)

    def gemm(plan, where, a_bits, b_words=None):
        yield ("write", {**_words(p, where.a_base, _bytes(a_bits, "<u2"), where.a_stride), **(b_words or {})})
        yield ("run", "desc", pack_descriptor(p, descriptor(p, plan, where)), gemm_cycles(plan, lay.cfg))
        return (yield from read(where.y_base, where.y_stride, (plan.m, plan.n)))

    for layer, w in zip(lay.layers, w0, strict=True):
        yield ("write", _words(p, layer["w"], _bytes(w, "<u4"), layer["stride"]))
    for step, (x, labels) in enumerate(batches):
        for layer in lay.layers:  # pre-generation: the operands of this step from the master W
            for transpose, key in ((0, "ff"), (1, "bp")):
                if layer[key] is None:
                    continue
                _, where = layer[key]
                job = topn_job(p, layer["shape"], mode, transpose, layer["w"], layer["stride"], where.b_base,
                               where.b_stride)
                yield ("run", "topn_desc", topn_word(p, job), topn_engine_cycles(p, job))
        masks = {"ff": [], "bp": []}
        for layer in lay.layers:
            for key in ("ff", "bp"):
                if layer[key] is None:
                    masks[key].append(None)
                    continue
                plan, where = layer[key]
                image = yield from read_image(where.b_base, where.b_base + plan.n_blocks * where.b_stride)
                _, kept = read_weight_rows(image, p, plan, where, pattern)
                masks[key].append(kept if key == "ff" else kept.T)
        acts, relus = [bf16_bits(x)], []
        for i, layer in enumerate(lay.layers):
            y = yield from gemm(*layer["ff"], acts[-1])
            if i < len(lay.layers) - 1:
                a, r = host_relu(y)
                acts.append(a)
                relus.append(r)
        grad = bf16_bits(host_loss_grad(y, labels))
        for i in reversed(range(len(lay.layers))):
            layer = lay.layers[i]
            plan, where = layer["wg"]
            yield from gemm(plan, where, np.ascontiguousarray(grad.T), _dense_b_words(p, plan, where, acts[i].T))
            if i:
                dx = yield from gemm(*layer["bp"], grad)
                grad = bf16_bits(np.where(relus[i - 1], f32_value(dx), np.float32(0)))
        for layer in lay.layers:
            n_out, k_in = layer["shape"]
            _, wg = layer["wg"]
            where = {"g_base": wg.y_base, "g_stride": wg.y_stride, "w_base": layer["w"], "w_stride": layer["stride"],
                     "v_base": layer["v"], "v_stride": layer["stride"]}
            word = update_word(p, update_descriptor(p, n_out, k_in, where, step == 0, mode, *hp))
            yield ("run", "update_desc", word, update_engine_cycles(p, n_out, k_in))
        state = {"w": [], "v": [], **masks}
        for layer in lay.layers:
            state["w"].append((yield from read(layer["w"], layer["stride"], layer["shape"])))
            state["v"].append((yield from read(layer["v"], layer["stride"], layer["shape"])))
        record.append(state)


def reference(lay, w0, batches, hyper):
    """The same steps with the exact models: per step {w, v (fp32 bits per layer), ff, bp (masks)}."""
    p, pattern = lay.p, lay.pattern
    mults = p.mults
    ws = [np.asarray(w, dtype=np.uint32) for w in w0]
    vs = [np.zeros_like(w) for w in ws]
    out = []

    def gemm(plan, a, b):
        pat = pattern if plan.mode else None
        return f32_bits(golden_gemm_fp_array(a, b, pat, p.window(plan.mode), mults, p.rows // plan.groups))

    for step, (x, labels) in enumerate(batches):
        ff = [nm_mask(f32_value(w), pattern, axis=1) for w in ws]
        bp = [nm_mask(f32_value(w), pattern, axis=0) if i else None for i, w in enumerate(ws)]
        acts, relus = [bf16_bits(x)], []
        for i, layer in enumerate(lay.layers):
            y = gemm(layer["ff"][0], acts[-1], _masked_bf16(ws[i], ff[i]))
            if i < len(ws) - 1:
                a, r = host_relu(y)
                acts.append(a)
                relus.append(r)
        grad = bf16_bits(host_loss_grad(y, labels))
        grads = [None] * len(ws)
        for i in reversed(range(len(ws))):
            layer = lay.layers[i]
            grads[i] = gemm(layer["wg"][0], np.ascontiguousarray(grad.T), np.ascontiguousarray(acts[i].T))
            if i:
                dx = gemm(layer["bp"][0], grad, _masked_bf16(ws[i], bp[i]).T)
                grad = bf16_bits(np.where(relus[i - 1], f32_value(dx), np.float32(0)))
        for i in range(len(ws)):
            ws[i], vs[i] = update_reference(grads[i], ws[i], vs[i], step == 0, pattern, *hyper.bits())
        out.append({"w": [w.copy() for w in ws], "v": [v.copy() for v in vs], "ff": ff, "bp": bp})
    return out



def run_training(cfg, dims, batches, w0, hyper, pattern, simulator, build_root, max_cycles=200_000):
    """Run `program` on the RTL (`TrainSystem` of `cfg`, cocotb on `simulator`): ``(steps, commands)`` as the
    testbench recorded them (fp32 bits and masks as numpy arrays; commands as ``[port, cycles]``)."""
    from nmsat.core_params import core_params
    from nmsat.hw.flow.cocotb_sim import run_cocotb
    from nmsat.hw.flow.verilog import to_verilog
    from nmsat.hw.update.train_system import TrainSystem

    p = core_params(cfg)
    lay = Layout(cfg, p, dims, len(batches[0][1]), pattern)
    words = 1 << max(10, (cdiv(lay.top, p.bus_bytes) - 1).bit_length())
    params = {"period_ns": 10, "max_cycles": max_cycles, "config": cfg.to_dict(), "dims": list(dims),
              "batch": len(batches[0][1]), "pattern": pattern, "w0": [np.asarray(w).tolist() for w in w0],
              "batches": [[np.asarray(x).tolist(), np.asarray(y).tolist()] for x, y in batches],
              "hyper": vars(hyper)}
    top = "nmsat_train_system"
    run = run_cocotb(to_verilog(TrainSystem(p, words), top), top, "nmsat.hw.tb.tb_bdwp_train", simulator, params,
                     build_root)
    out = run.outputs
    steps = [{k: [None if x is None else np.asarray(x, dtype=np.uint32 if k in ("w", "v") else bool) for x in v]
              for k, v in s.items()} for s in out["steps"]]
    return steps, out["commands"]  # [port, RTL cycles, model cycles] per command
