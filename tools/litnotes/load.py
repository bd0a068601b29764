"""Read YAML files into plain data, turning every way a file can be broken into a Problem.

Parsing uses libyaml (``CSafeLoader``) and keeps no positions: line numbers are
worked out afterwards, by :func:`locate`, only for a file that has a problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import yaml

from litnotes.problems import Problem

__all__ = ["Source", "read_source", "parse_yaml", "locate"]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _ParseProblem(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str, rule: str) -> None:
        super().__init__(message)
        self.mark, self.message, self.rule = mark, message, rule


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader, stricter: no duplicate keys, no aliases, dates stay strings."""

    # Dates stay strings so that an impossible date is a validation problem
    # with a position, not a ValueError raised while constructing.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # An alias hands the constructor a node it has already seen; refusing
        # it keeps "billion laughs" documents linear.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _ParseProblem(node.start_mark, "anchors and aliases (&name, *name) are not allowed in records; write the value out", "yaml-alias")
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:  # type: ignore[override]
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise _ParseProblem(key_node.start_mark, f"duplicate key '{key}' (first defined on line {first}); keep one of them", "yaml-duplicate-key")
            seen[key] = key_node
        return super().construct_mapping(node, deep)


def _refuse_tag(loader: yaml.BaseLoader, suffix: str, node: yaml.Node) -> Any:
    raise _ParseProblem(node.start_mark, f"YAML tag '{node.tag}' is not allowed: records hold plain data; remove the tag", "yaml-tag")


_Loader.add_multi_constructor("", _refuse_tag)  # type: ignore[no-untyped-call]


@dataclass
class Source:
    """A file's text; ``problem`` is set when it could not be read as UTF-8."""

    path: str
    text: str = ""
    problem: Problem | None = None
    _root: Any = field(default=None, repr=False)

    @cached_property
    def root(self) -> yaml.Node | None:
        """The composed node tree, built on first use (only for files with a problem)."""
        try:
            return yaml.compose(self.text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            return None


def read_source(path: Path, display: str | None = None) -> Source:
    """Read a file as UTF-8 (a byte-order mark is dropped, CRLF is accepted)."""
    shown = display or str(path)
    data = path.read_bytes()
    try:
        return Source(shown, data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        msg = f"file is not valid UTF-8 (byte 0x{data[start]:02x}); save it as UTF-8"
        return Source(shown, "", Problem(shown, line, col, msg, "encoding"))


_TAB_INDENT = re.compile(r"^ *\t", re.M)


def parse_yaml(source: Source) -> tuple[Any, Problem | None]:
    """Parse one YAML document; never raises for bad input."""
    if source.problem:
        return None, source.problem
    try:
        return yaml.load(source.text, Loader=_Loader), None
    except _ParseProblem as exc:
        return None, _at(source, exc.mark, exc.message, exc.rule)
    except yaml.MarkedYAMLError as exc:
        tab = _TAB_INDENT.search(source.text)
        if tab:
            line = source.text.count("\n", 0, tab.start()) + 1
            col = tab.end() - tab.start()
            return None, Problem(source.path, line, col, "tab character used for indentation; indent with spaces", "yaml-tab")
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        return None, _at(source, exc.problem_mark or exc.context_mark, f"YAML syntax error: {what}", "yaml-syntax")
    except yaml.YAMLError as exc:  # e.g. a second document, or a reader error
        return None, Problem(source.path, 1, 1, f"YAML error: {exc}", "yaml-syntax")
    except RecursionError:
        return None, Problem(source.path, 1, 1, "YAML nesting is too deep", "yaml-syntax")


def _at(source: Source, mark: yaml.Mark | None, message: str, rule: str) -> Problem:
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(source.path, line, col, message, rule)


def locate(source: Source, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the value at ``path``, or of its key when ``key`` is set.

    Falls back to the deepest node that exists, so a missing field points at
    the mapping that should hold it.
    """
    node = source.root
    if node is None:
        return 1, 1
    mark = node.start_mark
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                    child, mark = v, (k.start_mark if key and step == path[-1] else v.start_mark)
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
            mark = child.start_mark
        if child is None:
            break
        node = child
    return mark.line + 1, mark.column + 1
