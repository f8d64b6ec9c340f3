"""On-disk cache of built-in models' traces, so a cached workload needs no torch.

A trace is kept as ``$NMSAT_CACHE/traces/<key>.json`` (default ``~/.cache/nmsat``) under a key that hashes the
model, input, batch, method, pattern and the nmsat version: a new nmsat release extracts afresh. Factory
models (``package.module:factory``) are not cached: their source can change under the same name.
"""

import hashlib
import json

from nmsat import __version__, atomic
from nmsat import trace as trace_io
from nmsat.cache import cache_path
from nmsat.errors import NmsatError


def cache_dir():
    """``$NMSAT_CACHE/traces`` (default ``~/.cache/nmsat/traces``)."""
    return cache_path("traces")


def key(model, input, batch, method, pattern):
    """The cache key of one built-in model's step."""
    text = json.dumps([model, input, batch, method, None if pattern is None else str(pattern), __version__])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_trace(model, input="cifar", batch=32, method="bdwp", pattern="2:8", shape=None):
    """`nmsat.algo.workload.model_trace`, served from the cache for built-in models (torch only on a miss)."""
    if shape is not None or ":" in model:
        from nmsat.algo.workload import model_trace  # factories are never cached

        return model_trace(model, input, batch, method, pattern, shape)
    pattern = None if method == "dense" else pattern
    path = cache_dir() / f"{key(model, input, batch, method, pattern)}.json"
    if path.exists():
        try:
            return trace_io.load(path)
        except NmsatError:
            pass  # a damaged entry is rebuilt below
    from nmsat.algo.workload import model_trace

    trace = model_trace(model, input, batch, method, pattern)
    try:
        atomic.write_text(path, trace.to_json())
    except OSError:
        pass  # a read-only cache only costs speed
    return trace
