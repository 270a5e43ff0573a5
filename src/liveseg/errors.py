"""The one exception type users see: its message is a single sentence that says what to do."""


class LivesegError(Exception):
    """An expected failure caused by input or environment; the CLI prints it without a traceback."""

    exit_code = 2
