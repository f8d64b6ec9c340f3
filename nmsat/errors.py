"""The one exception type for bad user input: its message is a single line naming the bad value."""


class NmsatError(ValueError):
    """Bad input (pattern, config, trace, shape). The CLI prints it as one line and exits 2."""
