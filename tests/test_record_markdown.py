"""Record Markdown: what check refuses, where it says so, and that the pages carry nothing active anyway."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litnotes.records.markdown import destination_problem, findings, render, text_lines
from litnotes.records.model import Category, KnowledgeBase, Paper, Venue
from litnotes.site.directives import directive_lines
from litnotes.site.escape import markdown_safe
from litnotes.site.fences import code_lines
from litnotes.site.pages import render_site

FIXTURES = Path(__file__).parent / "fixtures" / "check"
QUOTED = re.compile(r"\('(?P<written>[^']+?)(?:…)?'")


class _Active(HTMLParser):
    """Collects what could run or load something in a browser."""

    TAGS = frozenset({"a", "p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "div", "span", "br",
                      "hr", "img", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "autofocus", "tabindex"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and destination_problem(value or "", image=name == "src"):
                self.found.append(f"{tag}[{name}={value}]")
            ours = value in ("litnotes-md", "litnotes-md-heading", "arithmatex") or (value or "").startswith("language-")
            if name == "class" and not ours:
                self.found.append(f"{tag}[class={value}]")


def active(html: str) -> list[str]:
    parser = _Active()
    parser.feed(html)
    return parser.found


def test_the_detector_sees_active_content() -> None:
    # A detector that cannot fail would make every test below worthless.
    assert active('<p onclick="x">a</p><a href="javascript:alert(1)">b</a><img src="https://o.example/x.png">'
                  '<script>1</script><p tabindex="0" autofocus>c</p>') == [
        "p[onclick]", "a[href=javascript:alert(1)]", "img[src=https://o.example/x.png]", "<script>",
        "p[tabindex]", "p[autofocus]"]


HOSTILE = {
    "entity in the scheme": "[x](java&#115;cript:alert(1))",
    "named entity colon": "[x](javascript&colon;alert(1))",
    "tab in the scheme, angle brackets": "[x](<java\tscript:alert(1)>)",
    "tab in the scheme": "[x](java\tscript:alert(1))",
    "reference definition": "[x][r]\n\n[r]: javascript:alert(1)",
    "data reference": "[x][d]\n\n[d]: data:text/html,<script>alert(1)</script>",
    "autolink": "<javascript:alert(1)>",
    "vbscript": "[x](VBScript:msgbox(1))",
    "image from another host": "![](https://other.host/x.png)",
    "reference image": "![x][i]\n\n[i]: https://tracker.example/p.gif",
    "attribute list": "段落\n{: tabindex=0 autofocus onfocus=\"alert(1)\" }",
    "inline attribute list": "[a](https://example.org){ onclick=\"alert(1)\" }",
    "raw HTML": "a <img src=x onerror=alert(1)> b",
    "HTML block": "<details open ontoggle=alert(1)>\n<summary>x</summary>\n</details>",
    "comment": "<!-- x --> y",
    "admonition": "!!! note\n    x",
    "collapsible": "??? note\n    x",
    "directive": "::: paper dist2022",
    "label": "$$\nx \\label{e}\n$$",
    "eqref": "见 \\eqref{e}",
    "protocol-relative": "[x](//evil.example/)",
    "backslash host": "[x](\\\\evil.example/)",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_each_hostile_construct_is_found_and_rendered_inert(text: str) -> None:
    assert findings(text), "check must refuse it"
    html = render(text)
    assert active(html) == []


@pytest.mark.parametrize("text", [
    "**粗体**、*斜体*、`x<y>`、$k < n$、$a<b>c$ 与 {a, b}",
    "[论文](https://openreview.net/forum?id=1)、[旧](http://example.org)、<mailto:a@example.org>、<https://x.org>",
    "[TAKD](../papers/takd2020.md)，[周报](../reports/2024-04-19.md#本周)",
    "```html\n<script>alert(1)</script>\n```",
    "- 列表\n- 项目\n\n> 引用",
    "$$\n\\frac{a}{b} < 1\n$$",
    "1 < 2 且 R&D；`{: .x }` 是代码",
])
def test_ordinary_markdown_is_allowed_and_kept(text: str) -> None:
    assert findings(text) == []
    assert active(render(text)) == []


def test_render_keeps_math_for_katex_and_links_working() -> None:
    html = render("当 $k<n$ 时\n\n$$\nx^2\n$$\n\n[DIST](https://github.com/hunto/DIST_KD) 与 [T](../papers/t.md)")
    assert '<span class="arithmatex">\\(k&lt;n\\)</span>' in html
    assert '<div class="arithmatex">\\[x^2\\]</div>' in html
    assert '<a href="https://github.com/hunto/DIST_KD">DIST</a>' in html
    assert '<a href="../papers/t.md">T</a>' in html


def test_render_cannot_open_a_fence_or_reference_in_the_page() -> None:
    # The block sits in a Python-Markdown page: no line may start a fence, no text may read as \ref{…}.
    html = render("````\n```\n<b>\n```\n````\n\n~~~ 与 \\ref{x}")
    assert "`" not in html and "~" not in html
    assert "\\ref{" not in html


def test_markdown_safe_is_the_same_renderer() -> None:
    text = "[x](java&#115;cript:alert(1)) {: onclick=x }"
    assert markdown_safe(text) == render(text)
    assert active(markdown_safe(text)) == []


def test_pages_of_an_unchecked_hostile_record_are_inert() -> None:
    # The build must not rely on check: a Paper made directly, never validated.
    hostile = "\n\n".join(HOSTILE.values())
    paper = Paper(id="evil2023", path="papers/evil2023.yaml", title="Evil", authors=("A B",), venue="v", year=2023,
                  category="c", summary=hostile, notes=hostile)
    kb = KnowledgeBase({"evil2023": paper}, {"c": Category("c", "分类")}, {"v": Venue("v", "Venue", "V", "conference")})
    page = render_site(kb)["papers/evil2023.md"]
    blocks = re.findall(r'<div class="litnotes-md">\n.*?\n</div>', page, re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        assert active(block) == []
    outside = re.sub(r'<div class="litnotes-md">\n.*?\n</div>', "", page, flags=re.DOTALL)
    assert "javascript" not in outside.lower() and "{:" not in outside


@pytest.mark.parametrize("url", ["java&#115;cript:x", "javascript&colon;x", "java\tscript:x", "jav\x00ascript:x",
                                 "JAVASCRIPT:x", "java&amp;#115;cript:x", "javascript%3Ax", " javascript:x",
                                 "java\u200bscript:x", "data:text/html,x", "file:///etc/passwd", "//evil.example"])
def test_destinations_are_judged_after_normalising(url: str) -> None:
    assert destination_problem(url)


@pytest.mark.parametrize("url", ["https://example.org/a?b=c#d", "http://example.org", "mailto:a@example.org",
                                 "../papers/x.md", "../reports/2024-04-19.md#x", "x.md"])
def test_web_and_site_destinations_are_allowed(url: str) -> None:
    assert destination_problem(url) is None


def test_images_come_only_from_the_site() -> None:
    assert destination_problem("https://example.org/x.png", image=True)
    assert destination_problem("data:image/png;base64,AAAA", image=True)
    assert destination_problem("../assets/x.png", image=True) is None


@pytest.mark.parametrize("case", sorted(p for p in (FIXTURES / "bad").glob("record-markdown-*") if p.is_dir()),
                         ids=lambda p: p.name)
def test_each_problem_points_at_its_construct(case: Path) -> None:
    # FILE:LINE:COL must point at the construct in the YAML file, also inside a block scalar.
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        path, number, col, message = line.split(":", 3)
        written = QUOTED.search(message)
        assert written, line
        text = (case / path).read_text(encoding="utf-8").split("\n")[int(number) - 1]
        expected = written["written"].replace("\\t", "\t")
        assert text[int(col) - 1:].startswith(expected), f"{line}\n  file line: {text!r}"


def test_one_fence_scanner_for_directives_and_links() -> None:
    page = "````md\n```\n::: paper inside\n```\n````\n::: paper outside\n~~~\n::: stats\n"
    lines = page.split("\n")
    assert code_lines(lines) == [True, True, True, True, True, False, True, True, True]
    assert directive_lines(page) == [(5, "paper", "outside")]
    from litnotes.links.check import links_in_markdown

    linked = "````\n```\nhttps://inside.example/\n```\n````\nhttps://outside.example/\n"
    assert [url for url, _ in links_in_markdown(linked, "x.md")] == ["https://outside.example/"]


@pytest.mark.slow
def test_non_strict_build_of_hostile_records_publishes_nothing_active(tmp_path: Path) -> None:
    """Without --strict the build goes on past the warnings: the bad records must still not reach a page."""
    from test_check_build_agree import CASES, _site

    root = tmp_path / "site"
    _site(FIXTURES / "good" / "record-markdown", root)
    for case in CASES:
        if case.name.startswith("record-markdown-"):
            for record in (case / "papers").glob("[!_]*.yaml"):
                shutil.copy(record, root / "papers" / f"{case.name.removeprefix('record-markdown-')}-{record.name}")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml"), "-d",
                          str(root / "out")], capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, run.stderr
    assert "'summary' contains" in run.stderr  # the record problems were reported as warnings
    for page in (root / "out").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for block in re.findall(r'<div class="litnotes-md">\n.*?\n</div>', html, re.DOTALL):
            assert active(block) == [], page
        assert "javascript:" not in html.lower(), page
        assert "other.host" not in html and "onfocus" not in html and "ontoggle" not in html, page


_FRAGMENTS = ["[", "]", "(", ")", "<", ">", "`", "```", "$", "$$", "\\label{x}", "{:", "}", "!!!", ":::", "\n", "\n\n",
              "  ", "\t", "&#115;", "&colon;", "javascript:", "a", "中", "*", "_", "> ", "[r]: ", "!", "#", "~~~",
              "    ", "\x00", "\r", "\r\n", "\u2028", "&", "|", "---", "x.md", "(#a)", "](", "- ", "1. ", "<b>",
              "https://x.org", "{#i}", "\\"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_any_text_gives_located_findings_and_inert_html(text: str) -> None:
    lines = text_lines(text)
    for finding in findings(text, lambda path: False):
        assert 0 <= finding.line < len(lines) and 0 <= finding.col <= len(lines[finding.line]), finding
        assert "\n" not in finding.message("summary")
    assert active(render(text)) == []


@pytest.mark.parametrize("summary", ["# 一级标题\n\n正文", "正文\n\n二级标题\n---\n\n更多", "###### 六级\n\n正文"])
def test_a_heading_in_record_markdown_adds_no_section_to_the_page(summary):
    html = markdown_safe(summary)
    assert re.search(r"<h[1-6]", html) is None
    assert 'class="litnotes-md-heading"' in html  # still shown, as a bold paragraph


def test_a_line_break_between_chinese_characters_in_a_summary_is_no_space():
    html = markdown_safe("师生差距较大时：\n梯度不稳定\nand English\nwords")
    assert "时：梯度" in html  # joined, as site/cjk.py joins them on hand-written pages
    assert "稳定\nand" in html and "English\nwords" in html  # a break next to Latin text stays a space
