"""Every command in the README's ```sh blocks works as written, in a fresh shell after the set-up.

Each command runs in its own fresh ``bash`` (a clean environment: no venv on ``PATH``) in a
fresh copy of the repository, so that one command's files never help or hinder another.  A
README command that sets the shell up (``. .venv/bin/activate``) is run too, and then prefixed to
every later command, as it is in a reader's shell.  The copy links to the ``.venv`` and
``node_modules`` that ``make setup`` created here.

What is not run, and why, is listed in ``SKIP``; what a reader brings (a BibTeX file of their
own) is in ``READER_FILES``.  Nothing may reach the internet: the proxies and the metadata
sources point at a closed local port.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV = ROOT / ".venv"

# Commands that are not run: (regular expression matched at the start of the command, reason).
SKIP = [
    (r"make serve\b", "starts the preview server, which runs until stopped (tests/test_serve.py drives it)"),
    (r"make test\b", "runs this test suite, this test included"),
    (r"litnotes links\b", "checks links over the network (tests/test_links.py runs it against local servers)"),
    (r"litnotes new (?!-)", "fetches a paper's metadata over the network (tested against local servers)"),
]

# Files that a README command expects the reader to have, written into the copy before it runs.
READER_FILES = {
    "entry.bib": """\
@inproceedings{romero2015fitnets,
  title     = {FitNets: Hints for Thin Deep Nets},
  author    = {Romero, Adriana and Ballas, Nicolas and Kahou, Samira Ebrahimi and Chassang, Antoine and
               Gatta, Carlo and Bengio, Yoshua},
  booktitle = {International Conference on Learning Representations},
  year      = {2015}
}
""",
}


def _report_not_started(repo: Path, command: str) -> None:
    """`litnotes report new [DATE]` starts a report: the week's may already be in the repository."""
    from litnotes.site.reports import report_friday

    words = shlex.split(command, comments=True)
    date = words[3] if len(words) > 3 else report_friday(dt.date.today()).isoformat()
    (repo / "docs" / "reports" / f"{date}.md").unlink(missing_ok=True)


# What the README's text says holds before a command: (pattern as in SKIP, how the copy is made so).
PRECONDITIONS = [
    (r"litnotes report new\b", _report_not_started),
]

# A closed port: a command that tries the network fails at once instead of leaving the machine.
_NOWHERE = "http://127.0.0.1:9"
_SETUP = re.compile(r"^(\.|source)\s")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```sh[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    text: str
    line: int  # in README.md

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.text}"


def readme_commands(text: str) -> list[Command]:
    """The commands of every ```sh block (also indented ones), a backslash-continued line as one."""
    out: list[Command] = []
    for block in _FENCE.finditer(text):
        first = text.count("\n", 0, block.start("body")) + 1
        indent = len(block["indent"])
        pending, start = "", 0
        for i, raw in enumerate(block["body"].split("\n")):
            line = raw[indent:] if raw[:indent].strip() == "" else raw
            if not pending:
                start = first + i
            if line.rstrip().endswith("\\"):
                pending += line.strip()[:-1].rstrip() + " "
                continue
            command = (pending + line.strip()).strip()
            pending = ""
            if command and not command.startswith("#"):
                out.append(Command(command, start))
    return out


def skip_reason(command: Command) -> str | None:
    for pattern, reason in SKIP:
        if re.match(pattern, command.text):
            return reason
    return None


def _installed_extras() -> str:
    """The extras this set-up was installed with (``make`` stamps them), e.g. ``test,torch`` in CI.

    The copy links to this ``.venv``: ``make`` there must find its stamp, not reinstall (offline) into it.
    """
    stamps = sorted(VENV.glob(".installed-*"), key=lambda p: p.stat().st_mtime)
    return stamps[-1].name.removeprefix(".installed-").replace("-", ",") if stamps else "test"


def _fresh_env(home: Path) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb",
           "EXTRAS": _installed_extras()}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[name] = _NOWHERE
    for name in ("LITNOTES_ARXIV_API", "LITNOTES_DOI_RESOLVER", "LITNOTES_OPENREVIEW_API", "LITNOTES_DBLP_API"):
        env[name] = _NOWHERE
    return env


def _copy_repo(target: Path) -> Path:
    """The repository's files (tracked and not ignored) in ``target``, with links to the set-up."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=False)
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = ROOT / name
            if source.is_file():  # a file deleted but not yet staged is listed too
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:  # not a git checkout: everything but the set-up and what the build writes
        shutil.copytree(ROOT, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "site", ".cache", "__pycache__", "*.egg-info", ".pytest_cache"))
    for name in (".venv", "node_modules"):
        if (ROOT / name).exists():
            (target / name).symlink_to(ROOT / name)
    return target


def _run(script: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=cwd, env=_fresh_env(home),
                          capture_output=True, text=True, timeout=300, check=False)


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def _setup_before(command: Command) -> list[str]:
    """The README's shell set-up lines that come before ``command``."""
    return [c.text for c in COMMANDS if c.line < command.line and _SETUP.match(c.text)]


needs_venv = pytest.mark.skipif(not (VENV / "bin" / "activate").is_file(),
                                reason="no .venv here: run `make setup` first (make test does)")


@needs_venv
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"line{c.line}:{' '.join(c.text.split()[:3])}")
def test_readme_command_works_in_a_fresh_shell(command: Command, tmp_path: Path) -> None:
    reason = skip_reason(command)
    if reason:
        pytest.skip(f"not run: {reason}")
    repo = _copy_repo(tmp_path / "repo")
    for name, content in READER_FILES.items():
        if re.search(rf"(^|\s){re.escape(name)}(\s|$)", command.text):
            (repo / name).write_text(content, encoding="utf-8")
    for pattern, prepare in PRECONDITIONS:
        if re.match(pattern, command.text):
            prepare(repo, command.text)
    home = tmp_path / "home"
    home.mkdir()
    script = "\n".join(["set -e", *_setup_before(command), command.text])
    result = _run(script, repo, home)
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}\n"
        "If the command is right and cannot run in a test, list it in SKIP with the reason.")


# --- the harness itself -----------------------------------------------------------------------------

def test_readme_has_the_commands_it_promises() -> None:
    texts = [c.text for c in COMMANDS]
    assert ". .venv/bin/activate" in texts
    assert any(t.startswith("litnotes check") for t in texts)
    assert any(t.startswith("litnotes new --bibtex") for t in texts)
    assert any(t.startswith("litnotes new --title") and "--abbr" in t for t in texts)  # joined continuation
    assert any(t.startswith("litnotes report new") for t in texts)
    skipped = {" ".join(c.text.split()[:2]) for c in COMMANDS if skip_reason(c)}
    assert {"make serve", "make test"} <= skipped
    # A continuation joined wrongly leaves an unbalanced quote.
    for c in COMMANDS:
        assert shlex.split(c.text, comments=True), c


def test_parser_reads_indented_blocks_and_continuations() -> None:
    text = "intro\n\n- item\n\n  ```sh\n  a --x \\\n    --y   # note\n  # only a comment\n  b\n  ```\n"
    assert readme_commands(text) == [Command("a --x --y   # note", 6), Command("b", 9)]


@needs_venv
def test_fresh_shell_has_no_litnotes_until_activated(tmp_path: Path) -> None:
    """The premise: without the README's set-up line, the command really is not found."""
    repo = _copy_repo(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    bare = _run("litnotes check", repo, home)
    assert bare.returncode == 127 and "command not found" in bare.stderr
    assert _run(". .venv/bin/activate\nlitnotes check", repo, home).returncode == 0


@needs_venv
def test_a_failing_command_fails(tmp_path: Path) -> None:
    repo = _copy_repo(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    result = _run("set -e\n. .venv/bin/activate\nlitnotes report new 2024-04-19", repo, home)
    assert result.returncode == 1 and "already exists" in result.stderr
