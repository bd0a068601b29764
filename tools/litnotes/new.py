"""`litnotes new`: scaffold a record (being written)."""
import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?")


def run_new(args: argparse.Namespace) -> int:
    raise NotImplementedError
