"""Progress bars (tqdm, on stderr) for the long steps of a job; the CLI decides whether they
show (a terminal and no ``--quiet``). Library code receives a :class:`Progress` or None."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tqdm import tqdm

__all__ = ["Progress", "QUIET"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Factory of tqdm bars and notes on stderr; ``enabled`` false makes both silent."""

    enabled: bool = False

    def bar(self, desc: str, total: float | None = None, unit: str = "it",
            unit_scale: bool = False) -> tqdm:
        """A tqdm bar (disabled when not ``enabled``); use as a context manager."""
        return tqdm(desc=desc, total=total, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                    disable=not self.enabled, leave=False, dynamic_ncols=True)

    def note(self, text: str) -> None:
        """A one-line note on stderr (between bars)."""
        if self.enabled:
            tqdm.write(text, file=sys.stderr)


QUIET = Progress(False)
