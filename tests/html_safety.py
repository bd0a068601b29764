"""A detector of active content in built HTML: what could run code or reach another host in a reader's browser.

:func:`active_content` lists every finding in a page:

- an inline event handler (any ``on…`` attribute);
- a ``javascript:``, ``vbscript:`` or ``data:`` destination in a URL-bearing attribute, judged the way a
  browser reads it: after HTML-entity decoding and with control characters and whitespace removed;
- a ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<base>``, ``<form>`` (and the other
  embedding tags) that the theme did not put there;
- a resource (image, script, style sheet, frame, media, CSS ``url()``) loaded from another host;
- a ``<meta http-equiv="refresh">``.

"From the theme" is decided from Material's own templates: an inline script is the theme's when its
body, with string literals blanked, is the body of a ``<script>`` in those templates; a script file is
the theme's when it is an address of this site under ``assets/``; a form is the theme's when its class is that of a
form in those templates (search box, palette toggle) and it has no action.
Inside the page's ``<article>`` (where records and pages write) nothing of the kind is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["Finding", "active_content", "theme_forms", "theme_scripts"]

_EMBEDDING = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
                        "portal", "fencedframe"})
_URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                        "cite", "ping", "manifest", "codebase", "lowsrc", "dynsrc", "srcset", "imagesrcset",
                        "longdesc", "usemap", "to", "from", "values", "by"})
# Attributes whose address the browser fetches on its own (as opposed to links the reader follows).
_FETCHED = frozenset({"src", "srcset", "imagesrcset", "data", "poster", "background", "lowsrc", "dynsrc",
                      "manifest", "codebase"})
_FETCHED_LINK_RELS = frozenset({"stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest",
                                "apple-touch-icon", "preconnect", "dns-prefetch", "import"})
_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|livescript|mocha):", re.I)
_HAS_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.I)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import\s+(['\"])(.*?)\3|expression\s*\(", re.I | re.S)
_JS_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


@dataclass(frozen=True)
class Finding:
    """One piece of active content: where (line of the HTML) and what."""

    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _normal_js(body: str) -> str:
    return re.sub(r"\s+", " ", _JS_STRING.sub('""', body)).strip()


@cache
def theme_scripts() -> frozenset[str]:
    """The bodies of the inline scripts in Material's templates, string literals blanked."""
    import material

    bodies = set()
    for template in (Path(material.__file__).parent / "templates").rglob("*.html"):
        for body in re.findall(r"<script>(.*?)</script>", template.read_text(encoding="utf-8"), re.S):
            bodies.add(_normal_js(_JINJA.sub("", body)))
    return frozenset(bodies)


@cache
def theme_forms() -> frozenset[str]:
    """The class attributes of the forms in Material's templates (search box, palette toggle, consent, feedback)."""
    import material

    classes = set()
    for template in (Path(material.__file__).parent / "templates").rglob("*.html"):
        classes.update(re.findall(r'<form class="([^"{}]*)"', template.read_text(encoding="utf-8")))
    return frozenset(classes)


def _destination(value: str) -> str:
    """An attribute value as the browser resolves it: entities are already decoded by the parser, as in a
    browser (once); control characters and whitespace, which a browser drops from a URL, are removed."""
    return _NOISE.sub("", value)


def _other_host(value: str) -> bool:
    return bool(_HAS_SCHEME.match(_destination(value)))


class _Detector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self.article = 0
        self.open_script: tuple[int, dict[str, str | None]] | None = None
        self.script_text: list[str] = []
        self.in_style = False

    def flag(self, what: str) -> None:
        self.findings.append(Finding(self.getpos()[0], what))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)
        if tag == "script":
            self.open_script = (self.getpos()[0], dict(attrs))
            self.script_text = []
        elif tag == "style":
            self.in_style = True
        elif tag == "article":
            self.article += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.flag(f"<{tag}> has an inline event handler {name}={value!r}")
            if name in _URL_ATTRS:
                for part in (value.split(",") if name.endswith("srcset") or name == "values" else [value]):
                    target = _destination(part.strip().split(" ")[0] if name.endswith("srcset") else part)
                    if _BAD_SCHEME.match(target):
                        self.flag(f"<{tag} {name}> has a script or data destination {value!r}")
                    elif name in _FETCHED and _other_host(target):
                        self.flag(f"<{tag} {name}> loads a resource from another host: {value!r}")
            if name == "style":
                self._css(value, f"<{tag} style>")
        if tag == "link" and _FETCHED_LINK_RELS.intersection(values.get("rel", "").lower().split()) \
                and _other_host(values.get("href", "")):
            self.flag(f"<link rel={values.get('rel')!r}> loads a resource from another host: {values.get('href')!r}")
        if tag in ("image", "use", "feimage") and _other_host(values.get("href", values.get("xlink:href", ""))):
            self.flag(f"<{tag}> loads a resource from another host")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.flag("<meta http-equiv=refresh> navigates the page away")
        if tag in _EMBEDDING and tag != "script" and not self._theme_form(tag, values):
            self.flag(f"<{tag}> is not from the theme")

    def _theme_form(self, tag: str, values: dict[str, str]) -> bool:
        return tag == "form" and not self.article and values.get("class") in theme_forms() \
            and "action" not in values

    def _css(self, css: str, where: str) -> None:
        for m in _CSS_URL.finditer(css):
            target = m.group(2) if m.group(2) is not None else m.group(4)
            if target is None:
                self.flag(f"{where} uses a CSS expression()")
            elif _BAD_SCHEME.match(_destination(target)) or _other_host(target):
                self.flag(f"{where} loads {target!r}")

    def handle_data(self, data: str) -> None:
        if self.open_script is not None:
            self.script_text.append(data)
        elif self.in_style:
            self._css(data, "<style>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.open_script is not None:
            line, values = self.open_script
            self.open_script = None
            body = "".join(self.script_text)
            if not self._theme_script(values, body):
                self.findings.append(Finding(line, f"<script> is not from the theme: {values!r} {body[:60]!r}"))
        elif tag == "style":
            self.in_style = False
        elif tag == "article" and self.article:
            self.article -= 1

    def _theme_script(self, values: dict[str, str | None], body: str) -> bool:
        if self.article:
            return False
        src = values.get("src")
        if src is not None:
            target = _destination(src)
            return not body.strip() and not _HAS_SCHEME.match(target) and \
                re.fullmatch(r"(?:(?:\.\./|\./)*|/(?:[\w.-]+/)*)assets/[\w./-]+\.js", target) is not None
        if values.get("type") == "application/json":
            return values.get("id") == "__config"
        return _normal_js(body) in theme_scripts()


def active_content(page: str) -> list[Finding]:
    """Every piece of active content in the HTML ``page`` (empty when the page is inert)."""
    detector = _Detector()
    detector.feed(page)
    detector.close()
    if detector.open_script is not None:  # an unclosed <script> runs to the end of the page
        detector.findings.append(Finding(detector.open_script[0], "<script> is never closed"))
    return detector.findings
