"""The ``templater`` command line: one module per command over the library (the only click
importer), each imported when its command runs (:data:`templater.cli.main.COMMANDS`). Usage
errors print one ``Error:`` line and exit with status 2."""

from templater.cli.main import main

__all__ = ["main"]
