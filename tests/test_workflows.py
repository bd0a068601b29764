"""The CI and pre-commit files call real things: make targets, litnotes subcommands, scripts, files.

A fork runs these files on GitHub, where a typo shows only after a push; here
every command of every ``run:`` step is taken apart and checked against the
Makefile, litnotes' own argument parser, pyproject.toml and the work tree.
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from litnotes.cli.main import _parser
from litnotes.links.check import DEFAULT_CACHE

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
VENV_BIN = Path(sys.executable).parent

# Programs a step may call besides make and the project's own scripts, and the
# gh subcommands the link workflow uses.
_TOOLS = {"echo", "grep", "tee", "cat", "printf", "test", "[", "gh", "true", "exit"}
_SHELL_WORDS = {"if", "then", "else", "elif", "fi", "{", "}", "!", "do", "done", "while", "for"}
_GH_COMMANDS = {("issue", "list"), ("issue", "edit"), ("issue", "comment"), ("issue", "create"), ("issue", "close")}
_OPERATORS = re.compile(r"^[();<>|&]+$")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as True.
    on = workflow.get("on", workflow.get(True))
    return dict.fromkeys(on) if isinstance(on, list) else dict(on)


def _steps(workflow: dict) -> Iterator[tuple[str, dict]]:
    for job_name, job in workflow["jobs"].items():
        for i, step in enumerate(job.get("steps", [])):
            yield f"{job_name}[{i}] {step.get('name') or step.get('uses') or step.get('run', '')[:40]}", step


def _commands(script: str) -> list[list[str]]:
    """Simple commands of a shell script: words up to the next operator, shell keywords and assignments dropped."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
    script = script.replace("\\\n", " ")
    lexer = shlex.shlex(script.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    commands: list[list[str]] = []
    current: list[str] = []
    redirect = False
    for token in lexer:
        if redirect:  # the file after > or <, not a command
            redirect = False
            continue
        if _OPERATORS.match(token) and re.search(r"[<>]", token):
            redirect = True
        elif _OPERATORS.match(token):
            if current:
                commands.append(current)
            current = []
        elif not current and (token in _SHELL_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token)):
            continue
        else:
            current.append(token)
    if current:
        commands.append(current)
    return commands


def _make_targets() -> dict[str, list[str]]:
    """Targets of the Makefile and their recipe lines."""
    targets: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        match = re.match(r"^([A-Za-z0-9_./$()-]+)\s*:(?!=)", line)
        if match:
            current = targets.setdefault(match.group(1), [])
        elif line.strip() and not line.startswith("#"):
            current = None
    return targets


def _console_scripts() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"].get("scripts", {}))


def _litnotes_accepts(args: list[str]) -> str | None:
    """None when litnotes' parser accepts ``args``, else what it said."""
    try:
        _parser().parse_args(args)
    except SystemExit:
        return f"litnotes does not accept {shlex.join(args)!r}"
    return None


def _command_problem(words: list[str]) -> str | None:
    name, args = words[0], words[1:]
    if name == "make":
        targets = _make_targets()
        missing = [a for a in args if not a.startswith("-") and "=" not in a and a not in targets]
        return f"make target(s) {missing} not in the Makefile" if missing else None
    if name.rsplit("/", 1)[-1] == "litnotes":
        if name not in ("litnotes", ".venv/bin/litnotes"):
            return f"{name}: run litnotes from the project's .venv"
        return _litnotes_accepts(args)
    if name.startswith(".venv/bin/"):
        script = name.removeprefix(".venv/bin/")
        return None if (VENV_BIN / script).exists() else f"{name} is not installed by `make setup`"
    if name == "gh":
        return None if tuple(args[:2]) in _GH_COMMANDS else f"unexpected gh command {shlex.join(args[:2])!r}"
    return None if name in _TOOLS else f"unknown program {name!r}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_run_step_calls_real_commands(path: Path) -> None:
    problems = []
    for where, step in _steps(_load(path)):
        for words in _commands(step.get("run", "")):
            problem = _command_problem(words)
            if problem:
                problems.append(f"{path.name}: {where}: {problem}")
    assert problems == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_and_hashed_files_exist(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for _, step in _steps(_load(path)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"{step['uses']}: pin a major version"
    for names in re.findall(r"hashFiles\(([^)]*)\)", text):
        for name in re.findall(r"'([^']+)'", names):
            assert (ROOT / name).is_file(), f"{path.name}: hashFiles names a missing file {name}"


def test_the_command_checker_catches_mistakes() -> None:
    """The checks above would see a typo; without this, they could pass on anything."""
    assert _command_problem(["make", "tset"]) == "make target(s) ['tset'] not in the Makefile"
    assert _command_problem([".venv/bin/litnotes", "link"]) == "litnotes does not accept 'link'"
    assert _command_problem([".venv/bin/litnotes", "links", "--format", "html"]) is not None
    assert _command_problem([".venv/bin/no-such-tool"]) is not None
    assert _command_problem(["curl", "https://example.org/"]) == "unknown program 'curl'"
    assert _commands('n=$(gh issue list --jq "a | b") && echo "x; y" | tee f.txt\n{ echo; } > out.md\nmake test') == [
        ["gh", "issue", "list", "--jq", "a | b"], ["echo", "x; y"], ["tee", "f.txt"], ["echo"], ["make", "test"]]


def test_make_test_runs_the_check_the_tests_and_the_strict_build() -> None:
    recipe = " ; ".join(_make_targets()["test"])
    assert "litnotes check" in recipe
    assert "-m pytest" in recipe
    assert "mkdocs build --strict" in recipe and " -q" not in recipe  # -q hides the warnings strict counts


def test_ci_tests_pull_requests_and_deploys_main_to_pages() -> None:
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    on = _triggers(ci)
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    test_job, deploy = ci["jobs"]["test"], ci["jobs"]["deploy"]
    runs = [_commands(step.get("run", "")) for step in test_job["steps"]]
    assert [["make", "ci-deps"]] in runs  # the browser tests' Chromium, before they run
    assert any(words[:2] == ["make", "test"] for commands in runs for words in commands)
    assert test_job["env"]["LITNOTES_CI"] == "1"
    upload = next(step for step in test_job["steps"]
                  if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert "refs/heads/main" in upload["if"] and "push" in upload["if"]
    # The artifact is the folder `make test` builds the site into.
    assert f"-d {upload['with']['path']}" in " ".join(_make_targets()["test"])
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    assert ci["permissions"] == {"contents": "read"}


def test_link_check_runs_weekly_and_reports_through_an_issue_without_blocking_anyone() -> None:
    links = _load(ROOT / ".github" / "workflows" / "links.yml")
    on = _triggers(links)
    assert set(on) == {"schedule", "workflow_dispatch"}
    cron = on["schedule"][0]["cron"].split()
    assert len(cron) == 5 and cron[2:4] == ["*", "*"] and cron[4] != "*", "once a week"
    assert links["permissions"]["issues"] == "write"
    steps = links["jobs"]["links"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert "make setup" in runs
    check = next(step for step in steps if "litnotes links" in step.get("run", ""))
    assert check["continue-on-error"] is True and check["shell"] == "bash"  # bash: pipefail keeps tee's exit honest
    assert _commands(check["run"])[0][:2] == [".venv/bin/litnotes", "links"]
    report = [step for step in steps if f"steps.{check['id']}.outcome == 'failure'" == step.get("if")]
    assert report and "gh issue create" in report[0]["run"] and "gh issue edit" in report[0]["run"]
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == DEFAULT_CACHE


def test_pre_commit_hook_offered_runs_a_console_script() -> None:
    hooks = _load(ROOT / ".pre-commit-hooks.yaml")
    assert [hook["id"] for hook in hooks] == ["litnotes-check"]
    hook = hooks[0]
    program, *args = shlex.split(hook["entry"])
    assert program in _console_scripts()
    assert _litnotes_accepts(args) is None
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    _assert_runs_on_records_and_pages(hook["files"])


def test_pre_commit_config_uses_the_hook_from_the_project_environment() -> None:
    config = _load(ROOT / ".pre-commit-config.yaml")
    offered = {hook["id"]: hook for hook in _load(ROOT / ".pre-commit-hooks.yaml")}
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    for hook in repo["hooks"]:
        assert hook["id"] in offered
        program, *args = shlex.split(hook["entry"])
        assert program.startswith(".venv/bin/") and program.removeprefix(".venv/bin/") in _console_scripts()
        assert args == shlex.split(offered[hook["id"]]["entry"])[1:]
        assert _litnotes_accepts(args) is None
        assert hook["pass_filenames"] is False and hook["files"] == offered[hook["id"]]["files"]


def _assert_runs_on_records_and_pages(pattern: str) -> None:
    files = re.compile(pattern)
    assert files.search("papers/dist2022.yaml") and files.search("papers/_venues.yaml")
    assert files.search("docs/reports/2024-04-19.md")
    assert not files.search("tools/litnotes/cli.py")


# The actions' major versions current when they were last reviewed (2026-12); Dependabot proposes newer ones.
_CURRENT_MAJORS = {"actions/checkout": 7, "actions/cache": 5, "actions/setup-python": 7, "actions/upload-artifact": 7,
                   "actions/upload-pages-artifact": 5, "actions/deploy-pages": 5}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_not_older_than_their_current_major(path: Path) -> None:
    for _, step in _steps(_load(path)):
        if "uses" in step:
            name, version = step["uses"].split("@v")
            assert name in _CURRENT_MAJORS, f"{name}: add it to the reviewed list"
            assert int(version) >= _CURRENT_MAJORS[name], f"{step['uses']}: v{_CURRENT_MAJORS[name]} is current"


def test_ci_builds_the_site_with_both_engines() -> None:
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    steps = ci["jobs"]["test"]["steps"]
    runs = [words for step in steps for words in _commands(step.get("run", ""))]
    assert ["make", "build", "ENGINE=zensical"] in runs
    # After the Pages upload: the Zensical build replaces site/, which must stay MkDocs' for the deploy.
    names = [step.get("uses", "").split("@")[0] or step.get("run", "") for step in steps]
    assert names.index("actions/upload-pages-artifact") < names.index("make build ENGINE=zensical")
    # make test runs the comparison of the two builds (not deselected as slow).
    test_recipe = " ; ".join(_make_targets()["test"])
    assert "-m pytest" in test_recipe and "not slow" not in test_recipe
    assert (ROOT / "tests" / "test_engines.py").is_file()
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "BUILD_zensical" in make and "$(BUILD_$(ENGINE))" in " ".join(_make_targets()["build"])


def test_dependabot_updates_pip_npm_and_actions() -> None:
    config = _load(ROOT / ".github" / "dependabot.yml")
    assert config["version"] == 2
    assert {u["package-ecosystem"]: u["directory"] for u in config["updates"]} == {
        "pip": "/", "npm": "/", "github-actions": "/"}
    # Dependabot's pip support reads requirements files by a .txt (or .in) name: the lock must have one.
    locks = set(re.findall(r"pip install .*?-c (\S+)", (ROOT / "Makefile").read_text(encoding="utf-8")))
    assert locks == {"requirements.lock.txt"}
    assert (ROOT / "requirements.lock.txt").is_file() and (ROOT / "package-lock.json").is_file()
