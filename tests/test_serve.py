"""`mkdocs serve` rebuilds when a record changes: the reader sees the edit without a restart."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "site"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _lines(stream) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _drain(lines: queue.Queue[str], into: list[str]) -> list[str]:
    while not lines.empty():
        into.append(lines.get())
    return into


@pytest.mark.slow
@pytest.mark.parametrize("watcher", ["native", "polling"])
def test_serve_rebuilds_after_a_record_changes(tmp_path, watcher):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"^  - litnotes$", f"  - litnotes:\n      watcher: {watcher}", text, flags=re.MULTILINE),
                      encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}",
                               "-f", str(config)], cwd=project, env=env, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines, log = _lines(server.stderr), []
    try:
        url = f"http://127.0.0.1:{port}/kb/papers/base2020/"
        assert _wait_for(lambda: "基础方法" in (_get(url) or ""), 60), "the server never served the paper page"
        # The build opens every watched file: that must not count as a change (no rebuild loop).
        time.sleep(2)
        assert not any("Detected file changes" in line for line in _drain(lines, log)), "\n".join(log)
        # Editors often save by writing a new file and renaming it over the old one.
        record = project / "papers" / "base2020.yaml"
        new = record.with_suffix(".tmp")
        new.write_text(record.read_text(encoding="utf-8").replace("基础方法", "修改后的方法"), encoding="utf-8")
        new.replace(record)
        assert _wait_for(lambda: "修改后的方法" in (_get(url) or ""), 30), "the page did not change after the edit"
        time.sleep(2)
        rebuilds = sum("Detected file changes" in line for line in _drain(lines, log))
        assert rebuilds == 1, "\n".join(log)
    finally:
        server.terminate()
        server.wait(timeout=10)
