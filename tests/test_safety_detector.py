"""The active-content detector (tests/html_safety.py) flags known-bad HTML, passes inert HTML and the real site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from html_safety import active_content, theme_scripts

REPO = Path(__file__).resolve().parent.parent


def _page(body: str, head: str = "") -> str:
    return (f"<!doctype html><html><head>{head}</head><body>"
            f"<article class=\"md-content__inner\">{body}</article></body></html>")


BAD = {
    "inline handler": '<p tabindex="0" autofocus onfocus="alert(1)">x</p>',
    "svg onload": "<svg/onload=alert(1)>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "javascript link": '<a href="javascript:alert(1)">x</a>',
    "entity-encoded scheme": '<a href="java&#115;cript:alert(1)">x</a>',
    "named entity colon": '<a href="javascript&colon;alert(1)">x</a>',
    "tab inside scheme": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "newline inside scheme": '<a href="java\nscript:alert(1)">x</a>',
    "upper-case scheme": '<a href=" JaVaScRiPt:alert(1)">x</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "data html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "form action": '<form action="javascript:alert(1)"><button>x</button></form>',
    "button formaction": '<button formaction="javascript:alert(1)">x</button>',
    "script in content": "<script>alert(1)</script>",
    "theme script copied into content": '<script>var target=document.getElementById(location.hash.slice(1));'
                                        'target&&target.name&&(target.checked=target.name.startsWith("__tabbed_"))</script>',
    "script src elsewhere": '<script src="https://evil.example/x.js"></script>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object": '<object data="x.swf"></object>',
    "embed": '<embed src="x.swf">',
    "base": '<base href="https://evil.example/">',
    "form": "<form><input name=q></form>",
    "image from another host": '<img src="https://other.host/x.png">',
    "protocol-relative image": '<img src="//other.host/x.png">',
    "srcset from another host": '<img src="a.png" srcset="a.png 1x, https://other.host/b.png 2x">',
    "stylesheet from another host": '<link rel="stylesheet" href="https://cdn.example/x.css">',
    "css url from another host": '<p style="background:url(https://other.host/x.png)">x</p>',
    "css import": "<style>@import 'https://other.host/x.css';</style>",
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "svg animate href": '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>',
    "svg image elsewhere": '<svg><image href="https://other.host/x.svg"/></svg>',
    "unclosed script": "<script>alert(1)",
}

GOOD = {
    "outside link": '<a href="https://github.com/example/x">code</a>',
    "relative link and image": '<a href="../x/">x</a><img src="../assets/x.png" alt="">',
    "script URL as text": "<p>javascript:alert(1) and &lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "code": "<pre><code>&lt;svg/onload=alert(1)&gt; onclick=&quot;x&quot;</code></pre>",
    "double-encoded entity is text": '<a href="&amp;#106;avascript:alert(1)">x</a>',
    "percent-encoded address": '<a href="https://a.example/%29%3Csvg/onload=alert%281%29%3E">x</a>',
    "inline svg chart": '<svg role="img" style="max-width:560px"><text>x</text></svg>',
    "canonical link": '<link rel="canonical" href="https://example.invalid/x/">',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_flags_known_bad_html(name: str) -> None:
    assert active_content(_page(BAD[name])), f"not flagged: {BAD[name]}"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_passes_inert_html(name: str) -> None:
    assert active_content(_page(GOOD[name])) == []


def test_theme_scripts_outside_the_article_pass_and_a_changed_one_does_not() -> None:
    theme = ('<script>var target=document.getElementById(location.hash.slice(1));target&&target.name&&'
             '(target.checked=target.name.startsWith("__tabbed_"))</script>')
    assert len(theme_scripts()) >= 3
    assert active_content(f"<html><body>{theme}</body></html>") == []
    changed = theme.replace("target.checked=", "alert(1),target.checked=")
    assert active_content(f"<html><body>{changed}</body></html>")
    assert active_content('<html><head><script src="assets/javascripts/bundle.js"></script></head></html>') == []
    assert active_content('<html><head><script src="assets/x.js">alert(1)</script></head></html>')


def test_the_repository_site_is_inert(tmp_path: Path) -> None:
    """The real site, built strictly from the real records and pages, has no active content of its own."""
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                             "-d", str(out)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, cwd=REPO)
    assert result.returncode == 0, result.stderr
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 20
    findings = {str(p.relative_to(out)): [str(f) for f in active_content(p.read_text(encoding="utf-8"))] for p in pages}
    assert {p: f for p, f in findings.items() if f} == {}
