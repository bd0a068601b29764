"""Read YAML files into plain data, turning every way a file can be broken into a Problem.

libyaml composes the node tree; a small builder below turns it into dicts,
lists, strings and numbers.  The builder is where records are stricter than
YAML: no duplicate keys, no anchors or aliases, no tags that construct
objects, and dates stay strings.  It is also faster than PyYAML's generic
constructor, which pays for the schema validation that follows.

No positions are kept: line numbers are worked out afterwards, by
:func:`locate`, only for a file that has a problem.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from litnotes.problems import Problem

__all__ = ["Source", "locate", "parse_yaml", "read_source"]

_CORE = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _CORE + "str", _CORE + "seq", _CORE + "map"

# Implicit types a record may use.  Timestamps stay strings so that an
# impossible date is a validation problem with a position, not a crash;
# '=' and '<<' (value and merge keys) are plain text.
_RESOLVERS: dict[str, tuple[tuple[str, Any], ...]] = {
    first: tuple((tag, regexp) for tag, regexp in resolvers
                 if tag not in (_CORE + "timestamp", _CORE + "value", _CORE + "merge"))
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items() if first is not None
}

_constructor = SafeConstructor()
# Explicit or implicit, these are the only tags a record's scalars may carry.
_SCALARS: dict[str, tuple[Callable[[ScalarNode], Any], str]] = {
    _CORE + "int": (_constructor.construct_yaml_int, "an integer"),
    _CORE + "float": (_constructor.construct_yaml_float, "a number"),
    _CORE + "bool": (_constructor.construct_yaml_bool, "true or false"),
    _CORE + "null": (_constructor.construct_yaml_null, "null"),
}


class _ParseProblem(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str, rule: str) -> None:
        super().__init__(message)
        self.mark, self.message, self.rule = mark, message, rule


try:
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml: slower, same results
    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class _Composer(_Parser):  # type: ignore[misc]
    """libyaml's parser and composer, with the record's implicit types and nothing else."""

    # The composer calls these for every node; path resolvers are never used.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _RESOLVERS.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


def _compose(text: str) -> yaml.Node | None:
    composer = _Composer(text)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _build(node: yaml.Node, seen: set[int]) -> Any:
    """Plain data from a node tree; raises _ParseProblem for what a record may not hold."""
    # An alias hands back a node already seen; refusing it keeps "billion
    # laughs" documents linear and records free of shared structure.
    if id(node) in seen:
        raise _ParseProblem(node.start_mark, "this value is anchored (&name) and used again through an alias (*name); "
                            "anchors and aliases are not allowed in records: write the value out", "yaml-alias")
    seen.add(id(node))
    cls, tag = node.__class__, node.tag
    if cls is ScalarNode:
        if tag == _STR:
            return node.value
        if tag in _SCALARS:
            construct, kind = _SCALARS[tag]
            try:
                return construct(node)
            except (ValueError, KeyError, TypeError, OverflowError):
                raise _ParseProblem(node.start_mark, f"'{node.value}' cannot be read as {kind}; "
                                    "put it in quotes to keep it as text", "yaml-value") from None
    elif cls is SequenceNode and tag == _SEQ:
        return [_build(child, seen) for child in node.value]
    elif cls is MappingNode and tag == _MAP:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, seen)
            if key.__class__ in (list, dict):
                raise _ParseProblem(key_node.start_mark, "a key must be plain text, not a list or mapping; "
                                    "write 'field: value'", "yaml-key")
            if key in out:
                first = next(k for k, _ in node.value if k is not key_node and _build(k, set()) == key)
                raise _ParseProblem(key_node.start_mark, f"duplicate key '{key}' (first defined on line "
                                    f"{first.start_mark.line + 1}); keep one of them", "yaml-duplicate-key")
            out[key] = _build(value_node, seen)
        return out
    raise _ParseProblem(node.start_mark, f"YAML tag '{_short_tag(tag)}' is not allowed: records hold plain text, "
                        "numbers and lists; remove the tag", "yaml-tag")


@dataclass
class Source:
    """A file's text; ``problem`` is set when it could not be read as UTF-8."""

    path: str
    text: str = ""
    problem: Problem | None = None

    @cached_property
    def root(self) -> yaml.Node | None:
        """The composed node tree, built on first use (only for files with a problem)."""
        try:
            return _compose(self.text)
        except (yaml.YAMLError, RecursionError):
            return None


def read_source(path: Path, display: str | None = None, *, within: Path | None = None) -> Source:
    """Read a regular file as UTF-8 (a byte-order mark is dropped, CRLF is accepted).

    Anything else named like a file (a directory, a FIFO, a device, a symlink
    loop) is a problem, not a hang or a traceback: the file is opened without
    blocking and checked before a byte is read.  With ``within`` (the
    repository root), a file that resolves outside that folder through a
    symlink is a problem too and is not read, so its content is never published.
    """
    shown = display or str(path)

    def problem(message: str, rule: str = "read") -> Source:
        return Source(shown, "", Problem(shown, 1, 1, message, rule))

    try:
        # Looked at before it is opened: opening a FIFO, even without blocking, would
        # wake a writer waiting on it.  O_NONBLOCK covers a swap between the two calls.
        refused = _refuse(os.stat(path).st_mode, path, within)
        if refused:
            return problem(*refused)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return problem("this is a symlink loop (following it leads back to itself); replace it with a regular "
                           "file, or delete it", "file-type")
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return problem(f"this symlink points at '{os.readlink(path)}', which does not exist; replace it with a "
                           "regular file, or delete it", "file-type")
        return problem(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable")
    try:
        refused = _refuse(os.fstat(fd).st_mode, None, None)
    except BaseException:
        os.close(fd)
        raise
    if refused:
        os.close(fd)
        return problem(*refused)
    with os.fdopen(fd, "rb") as stream:
        try:
            data = stream.read()
        except OSError as exc:
            return problem(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable")
    try:
        return Source(shown, data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        msg = (f"file is not valid UTF-8 (byte 0x{data[start]:02x})"
               + ("; it looks like UTF-16" if utf16 else "") + "; save it as UTF-8")
        return Source(shown, "", Problem(shown, line, col, msg, "encoding"))


def _refuse(mode: int, path: Path | None, within: Path | None) -> tuple[str, str] | None:
    """(message, rule) when a file of this mode is not a regular file inside ``within``; None when it may be read."""
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else \
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
            else "something other than a file"
        message = (f"this is {kind}, not a regular file; litnotes reads only regular YAML files here: "
                   "replace it with one, or move it out of this folder")
        return message, "file-type"
    # Only the file itself is followed: a records folder that is itself a symlink is the owner's choice.
    if within is not None and path is not None and os.path.islink(path):
        real, top = os.path.realpath(path), os.path.realpath(within)
        if os.path.commonpath([real, top]) != top:
            message = (f"this symlink resolves to {real}, outside the repository ({top}); files outside the "
                       "repository are neither read nor published: copy the file into the repository")
            return message, "file-outside"
    return None


# libyaml's wording -> what the author should do about it.
_SYNTAX_HINTS = (
    ("mapping values are not allowed", "put the value in quotes if it contains ': '"),
    ("alias", "a value starting with '*' or '&' is read as a YAML alias or anchor; put it in quotes"),
    ("found another document", "a record is a single YAML document; remove the '---' line"),
    ("did not find expected key", "check the indentation of this line and the lines above"),
    ("did not find expected '-' indicator", "check the indentation of this line and the lines above"),
    ("could not find expected ':'", "a line needs 'field: value'; check for a missing ':' or an unclosed quote"),
    ("did not find expected ',' or ']'", "close the list with ']'"),
    ("did not find expected ',' or '}'", "close the mapping with '}'"),
    ("unknown escape character", "in double quotes a backslash starts an escape: write '\\\\' or use single quotes"),
)


def parse_yaml(source: Source) -> tuple[Any, Problem | None]:
    """Parse one YAML document into plain data; never raises for bad input."""
    if source.problem:
        return None, source.problem
    try:
        node = _compose(source.text)
        return (None if node is None else _build(node, set())), None
    except _ParseProblem as exc:
        return None, _at(source, exc.mark, exc.message, exc.rule)
    except yaml.MarkedYAMLError as exc:
        return None, _syntax_problem(source, exc)
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        line, col = _position(source.text, exc.position)
        return None, Problem(source.path, line, col, f"the file contains the control character U+{char:04X}, which "
                             "YAML does not allow; remove it", "yaml-character")
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reports everything above
        return None, Problem(source.path, 1, 1, f"YAML error: {' '.join(str(exc).split())}", "yaml-syntax")
    except RecursionError:
        return None, Problem(source.path, 1, 1, "YAML nesting is too deep; records are flat mappings", "yaml-syntax")


def _syntax_problem(source: Source, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem, context = exc.problem or "", exc.context or ""
    lines = source.text.split("\n")
    if mark is not None:
        line_text = lines[mark.line] if mark.line < len(lines) else ""
        indent = line_text[:len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent or "tab character" in problem:
            col = indent.index("\t") + 1 if "\t" in indent else mark.column + 1
            return Problem(source.path, mark.line + 1, col, "tab character used for indentation; indent with spaces",
                           "yaml-tab")
        first = exc.context_mark.line if exc.context_mark else mark.line
        quote = _unclosed_quote(lines, max(first, mark.line - 3), mark.line)
        if quote:
            return Problem(source.path, quote[0] + 1, quote[1], "YAML syntax error: the quoted value that starts "
                           "here is not closed on its line; add the closing quote", "yaml-syntax")
    if "found another document" in problem:
        return _at(source, mark, "YAML syntax error: a second YAML document starts here; a record is a single "
                   "document: remove the '---' line", "yaml-syntax")
    what = problem or context or "invalid YAML"
    if problem and context:
        where = f" that starts on line {exc.context_mark.line + 1}" if exc.context_mark and mark and \
            exc.context_mark.line != mark.line else ""
        what = f"{problem} ({context}{where})"
    hint = next((fix for needle, fix in _SYNTAX_HINTS if needle in problem or needle in context),
                "check the quotes, brackets and indentation here")
    return _at(source, mark, f"YAML syntax error: {what}; {hint}", "yaml-syntax")


# A line whose value opens with a quote: "- 'x" or "field: \"x".
_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+|[^\s#'"-][^:#]*:\s+)(["'])""")


def _unclosed_quote(lines: list[str], first: int, last: int) -> tuple[int, int] | None:
    """(0-based line, 1-based column) of a quote that opens a value and is not closed on its line."""
    for number in range(max(first, 0), min(last, len(lines) - 1) + 1):
        m = _OPENS_QUOTE.match(lines[number])
        if not m:
            continue
        rest = lines[number][m.end():]
        closed = re.search(r'(?<!\\)"', rest) if m.group(1) == '"' else "'" in rest.replace("''", "")
        if not closed:
            return number, m.end()
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


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
    for i, step in enumerate(path):
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                    child, mark = v, (k.start_mark if key and i == len(path) - 1 else v.start_mark)
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
            mark = child.start_mark
        if child is None:
            break
        node = child
    return mark.line + 1, mark.column + 1

