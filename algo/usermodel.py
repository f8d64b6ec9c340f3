"""Bring your own model: ``package.module:factory`` or ``path/to/file.py:factory`` (a callable with no
arguments returning an `nn.Module`), and ``--input-shape`` text such as ``3,32,32`` or ``128,512``."""

import hashlib
import importlib
import importlib.util
import re
from pathlib import Path

import torch
from torch import nn

from nmsat.errors import NmsatError


def is_factory_spec(model):
    """True when `model` names a factory (``target:callable``) rather than a built-in model."""
    return ":" in model


def label(model):
    """`model` made safe for a folder name (``path/to/net.py:make`` -> ``path_to_net.py_make``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model).strip("_") or "model"


def _first_line(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")


def _import_file(spec, path):
    if not path.is_file():
        raise NmsatError(f"model {spec!r}: no such file {str(path)!r}")
    name = f"nmsat_user_{path.stem}_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader_spec)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:  # a user file: any error becomes one line
        raise NmsatError(f"model {spec!r}: importing {str(path)!r} failed ({_first_line(e)})") from None
    return module


def load_factory(spec):
    """The callable named by ``module.path:name`` or ``file.py:name``."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr.isidentifier():
        raise NmsatError(f"model {spec!r}: use package.module:factory or path/to/file.py:factory")
    if target.endswith(".py"):
        module = _import_file(spec, Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except Exception as e:  # ImportError, or an error raised while importing the user's package
            raise NmsatError(f"model {spec!r}: cannot import {target!r} ({_first_line(e)})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise NmsatError(f"model {spec!r}: {target!r} has no callable {attr!r}")
    return factory


def build_user_model(spec, device=None):
    """Call the factory of `spec` (on `device`, e.g. "meta", when given) and check it gives an `nn.Module`."""
    factory = load_factory(spec)
    try:
        if device is None:
            model = factory()
        else:
            with torch.device(device):
                model = factory()
    except Exception as e:  # the user's factory
        raise NmsatError(f"model {spec!r}: the factory raised {_first_line(e)}") from None
    if not isinstance(model, nn.Module):
        raise NmsatError(f"model {spec!r}: the factory returned {type(model).__name__}, not an nn.Module")
    return model


def parse_input_shape(text):
    """``"3,32,32"`` -> (3, 32, 32): one sample's shape (no batch), positive integers."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise NmsatError(f"input shape {text!r}: use positive integers separated by commas, e.g. 3,32,32")
    return tuple(int(p) for p in parts)
