"""``python -m templater.cli``."""

from templater.cli import main

main()
