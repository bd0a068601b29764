"""Directives in hand-written Markdown (being written)."""
from pathlib import Path


def check_docs(root: Path, docs: str, kb, all_ids) -> list:
    return []
