"""The `nmsat` command line. Each subcommand lives in `nmsat/commands/<name>.py` as `command`."""

import importlib
import pkgutil
import sys

import click

from nmsat import __version__, commands
from nmsat.errors import NmsatError


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
    """nmsat: train with N:M sparsity, simulate the accelerator, generate verified Verilog."""


def main(argv=None):
    """Entry point: bad input becomes one line on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="nmsat", standalone_mode=False)
    except NmsatError as e:
        click.echo(f"nmsat: error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("nmsat: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        click.echo(f"nmsat: error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
