"""Ctrl-C and SIGTERM as exceptions, also where a library swallows the first one.

The CLI installs `on_signal` for SIGINT and SIGTERM: it records the signal and raises KeyboardInterrupt,
so `finally` blocks remove temporary files. A KeyboardInterrupt can be lost, e.g. when it lands while
torch imports an optional module (the import fails with "initialization failed" and torch goes on
without it), so long loops and every output commit call `check`, which raises again once a signal has
been received.
"""

received = []  # signals received by this process, in order


def on_signal(signum, frame):
    """Signal handler: remember `signum` and interrupt the main thread."""
    received.append(signum)
    raise KeyboardInterrupt


def check():
    """Raise KeyboardInterrupt if a signal was received (at a safe point: an epoch, an output write)."""
    if received:
        raise KeyboardInterrupt
