"""The ``templater`` command line: one module per command over the library (the only click
importer). Usage errors print one ``Error:`` line and exit with status 2."""

from templater.cli import (  # noqa: F401  (registers)
    calibrate,
    check,
    compare,
    dose_test,
    listing,
    make,
    predict,
    sweep,
)
from templater.cli.main import main

__all__ = ["main"]
