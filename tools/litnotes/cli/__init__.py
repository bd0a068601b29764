"""The command line: ``litnotes check | new | links | render``."""

from litnotes.cli.main import main

__all__ = ["main"]
