"""The C++ N:M mask kernel (`nm_kernel.cpp`): built with g++ on first use, cached, loaded with ctypes.

The shared library goes to ``$NMSAT_CACHE`` (default ``$XDG_CACHE_HOME/nmsat`` or ``~/.cache/nmsat``),
named by a hash of the source, the flags and the compiler's version, so an edited source or another
compiler builds afresh; it is written to a temporary name and renamed, so concurrent first uses are safe.
If the build or the load fails (no g++, unwritable cache), `library` warns once and returns None, and
callers use the torch path. ``NMSAT_MASK_KERNEL=torch`` forces the torch path.
"""

import ctypes
import functools
import hashlib
import os
import subprocess
import tempfile
import warnings
from pathlib import Path

SOURCE = Path(__file__).with_name("nm_kernel.cpp")
FLAGS = ("-O3", "-shared", "-fPIC", "-std=c++17", "-fno-math-errno")
_PTR, _I64, _INT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
SIGNATURES = {  # name -> ctypes argument types
    "nm_mask_f32": (_PTR, _PTR, _I64, _I64, _I64, _INT, _INT),
    "nm_mask_f64": (_PTR, _PTR, _I64, _I64, _I64, _INT, _INT),
    "transposable_mask_f32": (_PTR, _PTR, _I64, _I64, _I64, _INT, _INT),
    "apply_mask_f32": (_PTR, _PTR, _PTR, _I64),
    "apply_mask_f64": (_PTR, _PTR, _PTR, _I64),
}


def cache_dir():
    """Where built kernels are kept: ``$NMSAT_CACHE``, else ``$XDG_CACHE_HOME/nmsat``, else ``~/.cache/nmsat``."""
    if os.environ.get("NMSAT_CACHE"):
        return Path(os.environ["NMSAT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nmsat"


def _compiler():
    return os.environ.get("CXX", "g++")


def _build(compiler):
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=True).stdout
    key = hashlib.sha256("\0".join([SOURCE.read_text(), *FLAGS, version]).encode()).hexdigest()[:16]
    target = cache_dir() / f"nm_kernel-{key}.so"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        try:
            subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", tmp], capture_output=True, text=True,
                           check=True)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


@functools.cache
def library():
    """The loaded kernel (a ctypes CDLL with the functions of `SIGNATURES`), or None (use the torch path)."""
    if os.environ.get("NMSAT_MASK_KERNEL", "").lower() == "torch":
        return None
    try:
        lib = ctypes.CDLL(str(_build(_compiler())))
    except (OSError, subprocess.CalledProcessError) as e:
        detail = e.stderr.strip().splitlines()[-1] if getattr(e, "stderr", None) else str(e)
        warnings.warn(f"nmsat: C++ mask kernel unavailable ({detail}); using the slower torch masks",
                      RuntimeWarning, stacklevel=2)
        return None
    for name, args in SIGNATURES.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = None
    return lib
