"""Shared test options: ``pytest --update-goldens`` rewrites golden files (same as LITNOTES_UPDATE_GOLDENS=1)."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files from the current output, then review the diff")


def pytest_configure(config: pytest.Config) -> None:
    # One switch for every golden test: they read the environment variable.
    if config.getoption("--update-goldens"):
        os.environ["LITNOTES_UPDATE_GOLDENS"] = "1"
