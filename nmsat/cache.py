"""Where nmsat keeps what it can rebuild: ``$NMSAT_CACHE`` (default ``~/.cache/nmsat``)."""

import os
from pathlib import Path


def cache_path(*parts):
    """``$NMSAT_CACHE/<parts...>`` (default ``~/.cache/nmsat/<parts...>``), read at each call so tests can set it."""
    return Path(os.environ.get("NMSAT_CACHE", "~/.cache/nmsat")).expanduser().joinpath(*parts)
