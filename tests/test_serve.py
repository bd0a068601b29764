"""`mkdocs serve` rebuilds when a record changes: the reader sees the edit without a restart.

And it never freezes: a broken record or directive is listed in a panel on every page while the
server keeps answering, a new record shows as a draft, and the server's own 404 log lines do not
abort a rebuild (strict mode stays for `mkdocs build` and `litnotes check`).
"""

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
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from litnotes.engines import memory_site

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


def _built(folder: Path, rel: str) -> Path | None:
    """The newest copy of a built file in the preview's folder, which holds two sites built in turn."""
    copies = [site / rel for site in (folder / "a", folder / "b") if (site / rel).is_file()]
    return max(copies, key=lambda p: p.stat().st_mtime_ns, default=None)


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


# --- a preview that never freezes --------------------------------------------------------------------

PANEL = 'class="litnotes-problems"'


class _Serve:
    """``mkdocs serve`` on a free port over a copy of the fixture site."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/kb/"
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{self.port}",
                                         "-f", str(project / "mkdocs.yml")], cwd=project, env=env, text=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines, self.log = _lines(self.process.stderr), []

    def get(self, path: str) -> str | None:
        return _get(self.base + path)

    def save(self, rel: str, text: str) -> None:
        """Save as editors do: write a new file, rename it over the old one."""
        target = self.project / rel
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=10)
        return "\n".join(_drain(self.lines, self.log))


@pytest.fixture
def serve(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    # Strict, as the repository's own mkdocs.yml: serve must not be (build stays strict).
    config = project / "mkdocs.yml"
    config.write_text("strict: true\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    server = _Serve(project)
    assert _wait_for(lambda: "基础方法" in (server.get("papers/base2020/") or ""), 90), "the server never served"
    yield server
    server.stop()


PAGES = ("", "papers/", "papers/base2020/", "papers/follow2021/", "reports/2024-01-05/")


def _every_page(server: _Serve) -> dict[str, str | None]:
    return {path: server.get(path) for path in PAGES}


@pytest.mark.slow
def test_a_broken_record_and_directive_are_shown_on_every_page_and_go_away_when_fixed(serve):
    record = serve.project / "papers" / "feat2022.yaml"
    good = record.read_text(encoding="utf-8")
    report = serve.project / "docs" / "reports" / "2023-12-29.md"
    good_report = report.read_text(encoding="utf-8")
    serve.save("papers/feat2022.yaml", good.replace("title:", 'title: "never closed\nx:', 1))
    serve.save("docs/reports/2023-12-29.md", good_report + "\n::: paper nosuch2099\n")
    # Not files at all: a FIFO (never opened) and a symlink loop.
    os.mkfifo(serve.project / "papers" / "pipe2020.yaml")
    (serve.project / "papers" / "loop2020.yaml").symlink_to("loop2020.yaml")
    lines = good_report.count("\n") + 2
    start = time.monotonic()
    shown = ("nosuch2099", "pipe2020.yaml", "loop2020.yaml", "feat2022.yaml")
    assert _wait_for(lambda: all(name in (serve.get("") or "") for name in shown), 60), serve.stop()
    took = time.monotonic() - start
    pages = _every_page(serve)
    for path, html in pages.items():
        assert html is not None, f"/{path} did not answer"
        assert PANEL in html, f"/{path} has no problem panel"
        assert "<code>papers/feat2022.yaml&#58;" in html and "YAML syntax error" in html
        assert f"<code>docs/reports/2023-12-29.md&#58;{lines}&#58;1</code> unknown paper &#39;nosuch2099&#39;" in html
        assert "<code>papers/pipe2020.yaml&#58;1&#58;1</code> this is a FIFO (named pipe)" in html
        assert "<code>papers/loop2020.yaml&#58;1&#58;1</code> this is a symlink loop" in html
    # The records that are fine still have their pages.
    assert "基础方法" in pages["papers/base2020/"]
    assert "Dense Guidance" in pages["papers/follow2021/"]
    print(f"problems shown {took:.1f} s after the edit")

    serve.save("papers/feat2022.yaml", good)
    serve.save("docs/reports/2023-12-29.md", good_report)
    (serve.project / "papers" / "pipe2020.yaml").unlink()
    (serve.project / "papers" / "loop2020.yaml").unlink()
    assert _wait_for(lambda: PANEL not in (serve.get("papers/base2020/") or PANEL), 60), serve.stop()
    for path, html in _every_page(serve).items():
        assert html is not None and PANEL not in html, f"/{path} still shows the panel after the fix"
    assert "Aborted" not in "\n".join(_drain(serve.lines, serve.log))


@pytest.mark.slow
def test_requests_for_missing_pages_during_a_rebuild_do_not_abort_it(serve):
    """FIELD-NOTES: strict serve counted its own '"GET /x" code 404' log lines as build warnings."""
    record = serve.project / "papers" / "follow2021.yaml"
    serve.save("papers/follow2021.yaml", record.read_text(encoding="utf-8").replace("Dense Guidance", "Dense Edited"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Outside the site's path (/kb/), a 404 is answered at once, so it is logged while the rebuild runs.
        _get(f"http://127.0.0.1:{serve.port}/nosuchpage/")
        if "Dense Edited" in (serve.get("papers/follow2021/") or ""):
            break
    else:
        pytest.fail("the edit never reached the page:\n" + serve.stop())
    log = "\n".join(_drain(serve.lines, serve.log))
    assert '"GET /nosuchpage/ HTTP/1.1" code 404' in log
    assert "Aborted" not in log
    assert PANEL not in serve.get("papers/follow2021/")  # a 404 is not the build's problem


@pytest.mark.slow
def test_a_new_record_from_litnotes_new_shows_as_a_draft_with_its_todos(serve):
    run = subprocess.run([str(Path(sys.executable).with_name("litnotes")), "new", "--title", "A Fresh Paper",
                          "--author", "Ada Lovelace", "--venue", "NeurIPS", "--year", "2022", "--category", "feature"],
                         cwd=serve.project, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    record = serve.project / "papers" / "lovelace2022.yaml"
    text = record.read_text(encoding="utf-8")
    todo_line = next(i for i, line in enumerate(text.splitlines(), 1) if "# TODO: what the paper contributes" in line)
    assert _wait_for(lambda: "草稿" in (serve.get("papers/lovelace2022/") or ""), 60), serve.stop()
    html = serve.get("papers/lovelace2022/")
    assert f"<code>papers/lovelace2022.yaml:{todo_line}</code> TODO: what the paper contributes" in html
    assert PANEL in html and "&#39;summary&#39; must not be empty" in html

    # A draft's values are text, never markup (not even in <title>, which the theme unescapes).
    hostile = text.replace("A Fresh Paper", "A <b>Fresh</b> Paper").replace('summary: ""', 'summary: "<i>x</i>"')
    serve.save("papers/lovelace2022.yaml", hostile)
    assert _wait_for(lambda: "Fresh&#60;/b&#62;" in (serve.get("papers/lovelace2022/") or ""), 60), serve.stop()
    html = serve.get("papers/lovelace2022/")
    assert "<b>Fresh</b>" not in html and "<i>x</i>" not in html
    assert "raw HTML" in html

    # Filling in the summary and fixing the title turns the draft into the paper's page.
    serve.save("papers/lovelace2022.yaml", re.sub(r'(?m)^summary: "".*$', "summary: 新写的摘要。", text))
    assert _wait_for(lambda: "草稿" not in (serve.get("papers/lovelace2022/") or "草稿"), 60), serve.stop()
    html = serve.get("papers/lovelace2022/")
    assert "新写的摘要" in html and "A Fresh Paper" in html and PANEL not in html


@pytest.mark.slow
def test_edits_reach_the_preview_after_papers_is_replaced(serve):
    """As git checkout of another branch or a sync tool does: the folder goes, a new one comes."""
    papers = serve.project / "papers"
    staging = serve.project / "papers.new"
    shutil.copytree(papers, staging)
    shutil.rmtree(papers)
    staging.rename(papers)
    time.sleep(1)
    serve.save("papers/base2020.yaml", (papers / "base2020.yaml").read_text(encoding="utf-8")
               .replace("基础方法", "换了文件夹之后的方法"))
    assert _wait_for(lambda: "换了文件夹之后的方法" in (serve.get("papers/base2020/") or ""), 60), serve.stop()


@pytest.mark.slow
@pytest.mark.skipif(not memory_site.in_memory_available(),
                    reason="no /dev/shm on this machine")
def test_the_preview_is_built_in_memory_answers_with_the_sites_404_and_is_removed_on_stop(serve):
    assert _wait_for(lambda: any("built in memory" in line for line in _drain(serve.lines, serve.log)), 30), \
        "\n".join(serve.log)
    line = next(line for line in serve.log if "built in memory" in line)
    folder = Path(line.rsplit(" in ", 1)[1].strip())
    assert folder.parent == Path("/dev/shm") and folder.name.startswith(f"litnotes-preview-{serve.process.pid}-")
    assert (folder / "a" / "papers" / "base2020" / "index.html").is_file()
    # An edit is written there, and served from there.
    record = serve.project / "papers" / "base2020.yaml"
    serve.save("papers/base2020.yaml", record.read_text(encoding="utf-8").replace("基础方法", "内存中的方法"))
    assert _wait_for(lambda: "内存中的方法" in (serve.get("papers/base2020/") or ""), 60), serve.stop()

    def written() -> str:  # served as soon as made, written with the rest
        path = _built(folder, "papers/base2020/index.html")
        return path.read_text(encoding="utf-8") if path else ""

    assert _wait_for(lambda: "内存中的方法" in written(), 60)
    # A missing page gets the site's own 404 page as it is now (MkDocs's folder keeps the first build's).
    config = serve.project / "mkdocs.yml"
    serve.save("mkdocs.yml", re.sub(r"^site_name: .*$", "site_name: 改名后的知识库", config.read_text(encoding="utf-8"),
                                    count=1, flags=re.MULTILINE))
    assert _wait_for(lambda: "改名后的知识库" in (serve.get("") or ""), 60), serve.stop()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(serve.base + "no-such-page/", timeout=5)
    assert missing.value.code == 404
    page = missing.value.read()
    assert "改名后的知识库" in page.decode("utf-8") and page == _built(folder, "404.html").read_bytes()
    serve.stop()  # SIGTERM, as service managers and test runners stop it
    assert not folder.exists()


# Slows the build of one page that no record edit changes: the rebuild then lasts seconds after
# the changed pages are made.
_SLOW_HOOK = """
import time

def on_post_page(output, page, config):
    if page.file.src_uri == "static-note.md":
        time.sleep(4)
    return output
"""

_LIVERELOAD = re.compile(rb"<script>\s*var livereload = .*?</script>", re.DOTALL)


def _raw(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.slow
def test_changed_pages_are_served_while_the_rest_of_the_site_is_rebuilt(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    (project / "docs" / "static-note.md").write_text("# 静态笔记\n\n这一页与记录无关。\n", encoding="utf-8")
    (project / "slow_hook.py").write_text(_SLOW_HOOK, encoding="utf-8")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("not_in_nav: |\n", "not_in_nav: |\n  /static-note.md\n", 1)
    config.write_text(text + "\nhooks:\n  - slow_hook.py\n", encoding="utf-8")
    server = _Serve(project)
    try:
        assert _wait_for(lambda: "基础方法" in (server.get("papers/base2020/") or ""), 90), server.stop()
        folder = None
        if memory_site.in_memory_available():
            assert _wait_for(lambda: any("built in memory" in x for x in _drain(server.lines, server.log)), 30)
            folder = Path(next(x for x in server.log if "built in memory" in x).rsplit(" in ", 1)[1].strip())

        # A record's title changes: its page is answered long before the slow page is built.
        def reloads() -> int:
            return sum("Reloading browsers" in x for x in _drain(server.lines, server.log))

        record = project / "papers" / "base2020.yaml"
        start, before = time.monotonic(), reloads()
        server.save("papers/base2020.yaml", record.read_text(encoding="utf-8").replace("基础方法", "提前的方法"))
        assert _wait_for(lambda: "提前的方法" in (server.get("papers/base2020/") or ""), 60), server.stop()
        assert reloads() == before, "the changed page came only after the rebuild had ended"
        status, early = _raw(server.base + "papers/base2020/")
        assert status == 200 and "提前的方法".encode() in early
        # A page the edit did not change is answered only once the rebuild has made it.
        asked = time.monotonic()
        status, note = _raw(server.base + "static-note/")
        assert status == 200 and "静态笔记".encode() in note
        waited = time.monotonic() - asked
        assert waited > 1.5, f"the unchanged page was answered {waited:.2f} s after asking: before it was rebuilt"
        # What was served early is what the rebuild wrote (less the server's live-reload script).
        if folder is not None:
            def written() -> bytes:
                path = _built(folder, "papers/base2020/index.html")
                return path.read_bytes() if path else b""

            assert _wait_for(lambda: "提前的方法".encode() in written(), 30)
            assert _LIVERELOAD.sub(b"", early) == written()

        # A record added, then deleted: its page is a 404 before the rebuild ends.
        time.sleep(5)  # the previous rebuild is over
        added = record.read_text(encoding="utf-8").replace("提前的方法", "新增的方法")
        added = re.sub(r"^title: .*$", "title: An Added Method", added, count=1, flags=re.MULTILINE)
        added = re.sub(r"^(arxiv|doi): .*\n", "", added, flags=re.MULTILINE)
        server.save("papers/extra2024.yaml", added)
        assert _wait_for(lambda: "新增的方法" in (server.get("papers/extra2024/") or ""), 60), server.stop()
        time.sleep(5)
        before = reloads()
        (project / "papers" / "extra2024.yaml").unlink()
        assert _wait_for(lambda: _raw(server.base + "papers/extra2024/")[0] == 404, 60), server.stop()
        assert reloads() == before, "the 404 came only after the rebuild had ended"
        assert _wait_for(lambda: reloads() > before, 30)
        assert time.monotonic() - start < 120
    finally:
        server.stop()


# Slows the reading of every page: a rebuild then lasts seconds before it writes anything.
_SLOW_READ_HOOK = """
import time

def on_page_markdown(markdown, page, config, files):
    time.sleep(0.4)
    return markdown
"""


@pytest.mark.slow
def test_a_newer_edit_is_shown_at_once_unless_someone_waits_for_the_rebuild_in_progress(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    (project / "slow_hook.py").write_text(_SLOW_READ_HOOK, encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\nhooks:\n  - slow_hook.py\n", encoding="utf-8")
    server = _Serve(project)
    papers = project / "papers"

    def count(text: str) -> int:
        return sum(text in x for x in _drain(server.lines, server.log))

    def title(record: str, old: str, new: str) -> None:
        server.save(f"papers/{record}.yaml", (papers / f"{record}.yaml").read_text(encoding="utf-8").replace(old, new))

    try:
        assert _wait_for(lambda: "A Base Method" in (server.get("papers/base2020/") or ""), 90), server.stop()
        # One edit, then another while its rebuild reads pages: the second is shown without waiting for it.
        title("base2020", "A Base Method", "A First Edit")
        assert _wait_for(lambda: "A First Edit" in (server.get("papers/base2020/") or ""), 30), server.stop()
        saved = time.monotonic()
        # A record with a tag: its page shows the tag as the tags plugin listed it in the last rebuild.
        title("follow2021", "Following Up", "A Second Edit")
        assert _wait_for(lambda: "A Second Edit" in (server.get("papers/follow2021/") or ""), 30), server.stop()
        shown = time.monotonic() - saved
        assert count("a newer edit came") == 1, "\n".join(server.log)
        assert shown < 3, f"the second edit took {shown:.1f} s"
        # Both edits are in the site the next rebuild makes, page for page.
        assert _wait_for(lambda: "A First Edit" in (server.get("papers/") or ""), 60)
        assert "A Second Edit" in (server.get("papers/") or "")

        # Someone waits for a page of the rebuild in progress: a newer edit does not stop it before
        # that page is made (the answer has the third edit and not yet the fourth).
        time.sleep(3)
        title("base2020", "A First Edit", "A Third Edit")
        assert _wait_for(lambda: "A Third Edit" in (server.get("papers/base2020/") or ""), 30), server.stop()
        answer: list[str] = []
        # It waits for the rebuild: longer than _get's 2 s.
        waiting = threading.Thread(target=lambda: answer.append(
            urllib.request.urlopen(server.base + "papers/", timeout=60).read().decode("utf-8")), daemon=True)
        waiting.start()
        time.sleep(0.5)
        title("follow2021", "A Second Edit", "A Fourth Edit")
        waiting.join(60)
        assert answer and "A Third Edit" in answer[0] and "A Fourth Edit" not in answer[0]
        assert _wait_for(lambda: "A Fourth Edit" in (server.get("papers/") or ""), 60)
        # Every page shown before a rebuild (also after one was stopped) was the page it made.
        assert _wait_for(lambda: count("Documentation built") + count("a newer edit came")
                         == count("Building documentation"), 60)  # every rebuild ended or stopped
        assert count("was not the rebuild's") == 0, "\n".join(server.log)
    finally:
        server.stop()
