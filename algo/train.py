"""Train a built-in model on digits with dense / SR-STE / BDWP N:M training; metrics, checkpoint, traces."""

import dataclasses
import json
import math
import time
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from nmsat import atomic, checks, interrupt
from nmsat.algo.data import digits
from nmsat.algo.layers import layer_masks, sparsify_
from nmsat.algo.models import build_model, input_shape
from nmsat.algo.nmconfig import NMConfig
from nmsat.algo.usermodel import build_user_model, is_factory_spec
from nmsat.algo.workload import trace_from_module
from nmsat.errors import NmsatError

TRAINABLE = ("mlp", "digits_cnn")


def _accuracy(model, x, y, batch=512):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
                      for i in range(0, len(x), batch))
    model.train()
    return correct / len(x)


def _build(model):
    """A built-in digits model, or the user's factory model (it must take 1x8x8 digits, 10 classes)."""
    return build_user_model(model) if is_factory_spec(model) else build_model(model, "digits")


def _save_trace(model_name, cfg, model, step, batch, path):
    trace = trace_from_module(model, input_shape("digits"), batch, cfg.method,
                              None if cfg.method == "dense" else str(cfg.pattern), name=model_name)
    dataclasses.replace(trace, step=step, masks=layer_masks(model)).save(path)


def _json_safe(value):
    """`value` with non-finite floats (a diverged loss) as None, so the JSON stays valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def train(model="digits_cnn", method="bdwp", pattern="2:8", seed=0, epochs=10, batch=64, lr=0.05,
          decay=2e-4, interval=1, out_dir=None, progress=False, threads=1):
    """Train `model` ("mlp", "digits_cnn", or a factory ``package.module:factory`` /
    ``path/file.py:factory`` whose model takes 1x8x8 digits and gives 10 logits) on digits and return
    its metrics dict.

    SGD (momentum 0.9, weight decay 5e-4, cosine learning rate) from seed `seed` (weights and batch
    order), on `threads` torch CPU threads (restored afterwards; one thread is fastest for these small
    models on a shared machine and keeps runs bit-reproducible). With `out_dir`: writes ``metrics.csv``
    (per epoch), ``metrics.json``, ``checkpoint.pt`` and ``trace_first.json`` / ``trace_last.json``
    (the GEMMs plus the real masks of the first and last step).
    """
    if model not in TRAINABLE and not is_factory_spec(model):
        raise NmsatError(f"model {model!r} cannot be trained on digits (use {', '.join(TRAINABLE)} "
                         "or package.module:factory)")
    opts = checks.training(epochs, batch, lr, decay, interval, threads, (seed,))
    epochs, batch, lr, threads = opts["epochs"], opts["batch"], opts["lr"], opts["threads"]
    cfg = NMConfig.parse(method, None if method == "dense" else pattern, decay, interval)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(model, cfg, seed, epochs, batch, lr, out_dir, progress)
    finally:
        torch.set_num_threads(previous)


def _train(model, cfg, seed, epochs, batch, lr, out_dir, progress):
    xtr, ytr, xte, yte = digits()
    torch.manual_seed(seed)
    net = sparsify_(_build(model), cfg)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    steps_per_epoch = -(-len(xtr) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    out = Path(out_dir) if out_dir is not None else None
    rows, step, start = [], 0, time.perf_counter()
    label = "dense" if cfg.method == "dense" else f"{cfg.n}:{cfg.m}"
    bar = tqdm(range(epochs), desc=f"{model} {cfg.method} {label} s{seed}", disable=not progress, leave=False)
    for epoch in bar:
        interrupt.check()  # a Ctrl-C that a library swallowed still stops the run
        order = torch.randperm(len(xtr), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(xtr), batch):
            idx = order[i:i + batch]
            logits = net(xtr[idx])
            loss = loss_fn(logits, ytr[idx])
            opt.zero_grad()
            loss.backward()
            if out is not None and step in (0, epochs * steps_per_epoch - 1):
                name = "trace_first.json" if step == 0 else "trace_last.json"
                _save_trace(model, cfg, net, step, len(idx), out / name)
            opt.step()
            sched.step()
            step += 1
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == ytr[idx]).sum().item()
        rows.append({"epoch": epoch + 1, "train_loss": total / len(xtr), "train_acc": correct / len(xtr),
                     "test_acc": _accuracy(net, xte, yte), "seconds": time.perf_counter() - start})
        bar.set_postfix(loss=f"{rows[-1]['train_loss']:.3f}", test_acc=f"{rows[-1]['test_acc']:.3f}")
    result = {"model": model, "method": cfg.method, "pattern": label, "seed": seed, "epochs": epochs,
              "batch": batch, "lr": lr, "decay": cfg.decay, "interval": cfg.interval, "steps": step,
              "test_acc": rows[-1]["test_acc"],
              "train_loss": [r["train_loss"] for r in rows], "seconds": rows[-1]["seconds"]}
    if out is not None:
        atomic.write_csv(out / "metrics.csv", rows)
        atomic.write_text(out / "metrics.json", json.dumps(_json_safe(result), indent=2, allow_nan=False))
        with atomic.atomic_path(out / "checkpoint.pt") as tmp:
            try:
                torch.save({"state_dict": net.state_dict(), "config": cfg.__dict__, "model": model,
                            "epoch": epochs}, tmp)
            except RuntimeError as e:  # torch's writer reports a full disk as RuntimeError
                raise NmsatError(f"cannot write {str(out / 'checkpoint.pt')!r}: {str(e).splitlines()[0]}") from None
    return result
