"""The `nmsat` command line. Each subcommand lives in `nmsat/commands/<name>.py` as `command`.

Exit codes: 0 success; 2 bad input or an output that cannot be written (one line on stderr naming the
value or path and the reason); 130 interrupted by Ctrl-C, 143 by SIGTERM (temporary files removed).
"""

import importlib
import pkgutil
import signal
import sys

import click

from nmsat import __version__, commands, interrupt
from nmsat.errors import NmsatError

USAGE = "usage: nmsat COMMAND [OPTIONS]  (commands: {}; `nmsat --help` for more)"


class _Commands(click.Group):
    """Finds subcommands in `nmsat.commands`, importing each only when it is used."""

    def list_commands(self, ctx):
        return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))

    def get_command(self, ctx, name):
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(f"nmsat.commands.{name}").command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nmsat")
def cli():
    """nmsat: train with N:M sparsity, simulate the accelerator, generate verified Verilog.

    Exit codes: 0 success; 2 bad input or an output that cannot be written (one line naming it);
    130 Ctrl-C; 143 SIGTERM. --config takes a TOML file or a shipped name (default, hw-small).
    """


def _exit(code, msg=None):
    if msg:
        click.echo(f"nmsat: {msg}", err=True)
    sys.exit(code)


def guarded(fn):
    """Run `fn` under the CLI's rules and exit: `NmsatError` and unusable outputs -> one line, exit 2;
    Ctrl-C / SIGTERM -> "nmsat: interrupted", exit 128 + signal, after `finally` blocks have cleaned up."""
    previous = {sig: signal.signal(sig, interrupt.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    received = interrupt.received
    received.clear()
    try:
        fn()
        interrupt.check()  # a signal whose KeyboardInterrupt a library swallowed
    except NmsatError as e:
        _exit(2, f"error: {e}")
    except (KeyboardInterrupt, click.exceptions.Abort):
        for sig in previous:  # while exiting, no late handler call may raise a second KeyboardInterrupt
            signal.signal(sig, signal.SIG_IGN)
        previous = dict.fromkeys(previous, signal.SIG_IGN)
        _exit(128 + (received[0] if received else signal.SIGINT), "interrupted")
    except click.ClickException as e:
        _exit(e.exit_code, f"error: {e.format_message()}")
    except Exception as e:
        if received:  # an interrupt inside C code (e.g. while torch loads) can surface as another error
            _exit(128 + received[0], "interrupted")
        if isinstance(e, OSError):
            where = f"{e.filename!r}: " if e.filename else ""
            _exit(2, f"error: {where}{e.strerror or e}")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _exit(0)


def main(argv=None):
    """Entry point: see the module docstring for exit codes; no arguments prints a one-line usage."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        _exit(2, USAGE.format(", ".join(cli.list_commands(None))))
    guarded(lambda: cli.main(args=args, prog_name="nmsat", standalone_mode=False))


if __name__ == "__main__":
    main()
