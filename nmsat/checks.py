"""Value checks shared by every constructor that takes user input (configs, traces, training options).

Each check returns the value (floats as ``float``) or raises `NmsatError` with one line naming the value.
"""

import math
import sys
from pathlib import Path

from nmsat.errors import NmsatError

MAX_SEED = 2**63 - 1  # torch.manual_seed and numpy accept 0 .. 2**63 - 1 everywhere


def require(cond, msg):
    """Raise `NmsatError(msg)` unless `cond`."""
    if not cond:
        raise NmsatError(msg)


def integer(name, value, lo=None, hi=None):
    """`value` as an int (bools and floats refused) within ``lo <= value <= hi``."""
    require(isinstance(value, int) and not isinstance(value, bool) or _numpy_int(value),
            f"{name} = {value!r}: expected an integer")
    value = int(value)
    require(lo is None or value >= lo, f"{name} = {_short(value)}: must be >= {lo}")
    require(hi is None or value <= hi, f"{name} = {_short(value)}: must be <= {hi}")
    return value


def number(name, value, lo=None, hi=None, positive=False):
    """`value` as a finite float, not denormal, within ``lo <= value <= hi`` (``> 0`` if `positive`)."""
    require(isinstance(value, int | float) and not isinstance(value, bool) or _numpy_float(value),
            f"{name} = {value!r}: expected a number")
    try:
        value = float(value)
    except OverflowError:
        raise NmsatError(f"{name} = {_short(value)}: too large") from None
    require(math.isfinite(value), f"{name} = {value!r}: must be finite")
    require(value == 0 or abs(value) >= sys.float_info.min, f"{name} = {value!r}: denormal (too close to 0)")
    require(not positive or value > 0, f"{name} = {value!r}: must be > 0")
    if lo is not None:
        require(value >= lo, f"{name} = {value!r}: must be >= {lo:g}")
    if hi is not None:
        require(value <= hi, f"{name} = {value!r}: must be <= {hi:g}")
    return value


def text(name, value, max_len=1000):
    """`value` as a str of at most `max_len` characters."""
    require(isinstance(value, str), f"{name} = {_short(value)}: expected a string")
    require(len(value) <= max_len, f"{name}: longer than {max_len} characters")
    return value


def read_input(path, what):
    """The UTF-8 text of a user's input file; `NmsatError` (one line) if unreadable or not UTF-8 text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise NmsatError(f"{what} {str(path)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise NmsatError(f"{what} {str(path)!r}: not UTF-8 text (byte {e.start})") from None


def _short(value):
    """repr of `value`, shortened for huge numbers so an error stays one readable line."""
    s = repr(value) if not isinstance(value, int) or value.bit_length() < 200 else f"~2**{value.bit_length() - 1}"
    return s if len(s) <= 80 else s[:77] + "..."


def _numpy_int(value):
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.integer)


def _numpy_float(value):
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.integer | np.floating)


def training(epochs, batch, lr, decay, interval, threads, seeds=()):
    """Check training options (shared by `nmsat.algo.train.train` and the CLI, which checks before
    importing torch); return them normalized."""
    for seed in seeds:
        integer("seed", seed, 0, MAX_SEED)
    return {"epochs": integer("epochs", epochs, 1, 100_000), "batch": integer("batch", batch, 1, 2**20),
            "lr": number("learning rate (--lr)", lr, hi=1e3, positive=True),
            "decay": number("SR-STE decay (--decay)", decay, 0.0, 1e3),
            "interval": integer("mask-update interval", interval, 1, 2**31),
            "threads": integer("threads", threads, 1, 256)}
