"""Each escaping function of litnotes.site.escape keeps any value inside its context (property tests)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bibtexparser
import markdown
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from litnotes.site import escape
from litnotes.site.escape import (
    URL_UNSAFE,
    Markdown,
    attr,
    bibtex_latex,
    bibtex_text,
    bibtex_verbatim,
    code_block,
    front_matter,
    html_text,
    link,
    markdown_safe,
    plain,
    url,
)
from mkdocs.utils.meta import get_data

FRAGMENTS = ['"', "'", "[", "]", "(", ")", "<", ">", "`", "```", "\n```\n", "---", "\n---\n", "{:", "{: .x #y }",
             "{", "}", "},note={x}", "\n", "\t", "&#106;avascript:", "java&#115;cript:", "javascript&colon;",
             "javascript:alert(1)", "<svg/onload=alert(1)>", "<script>", "\\", "|", "#", "# ", "*", "_", "&", "%",
             "~", "^", "!", "![x](y)", "[r]: x", "1. ", "- ", "+ ", "> ", "=", "&amp;", "%7D", "\u2028", "\x85",
             ": ", "*[HTML]: x", "[^1]", "a", " ", "文"]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map("".join)
SETTINGS = settings(max_examples=150, deadline=None)

# The block and inline syntax of the site (tables, attribute lists, abbreviations, definitions, footnotes,
# raw HTML in Markdown); math and emoji are left out because they change the text on purpose.
_MD = markdown.Markdown(extensions=["abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html",
                                    "tables", "toc", "pymdownx.superfences"])


def _md(text: str) -> str:
    return _MD.reset().convert(text)


def _one_line(text: str) -> str:
    """What a text value shows as: one line, without control characters."""
    return " ".join(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).split())


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(fragment: str) -> _Elements:
    parser = _Elements()
    parser.feed(fragment)
    parser.close()
    return parser


@SETTINGS
@given(value=hostile)
def test_plain_text_is_one_paragraph_of_exactly_that_text(value: str) -> None:
    parsed = _parse(_md("前 " + plain(value) + " 后"))
    assert [tag for tag, _ in parsed.tags] == ["p"]
    assert "".join(parsed.text) == "前 " + _one_line(value) + " 后"


@SETTINGS
@given(value=hostile)
def test_plain_text_stays_in_its_table_cell_and_heading(value: str) -> None:
    table = _parse(_md(f"| a | b |\n|---|---|\n| {plain(value)} | x |"))
    assert [t for t, _ in table.tags].count("td") == 2
    heading = _parse(_md(f"# {plain(value)}\n\nbody"))
    assert [t for t, _ in heading.tags] == ["h1", "p"]


def test_plain_leaves_markdown_alone_and_is_idempotent() -> None:
    trusted = Markdown("**bold**")
    assert plain(trusted) is trusted
    assert plain(plain("a*b")) == plain("a*b")


@SETTINGS
@given(value=hostile)
def test_url_is_https_with_the_same_host_and_nothing_that_ends_a_link(value: str) -> None:
    address = "https://a.example/" + value
    safe = url(address)
    if safe is None:
        return
    assert safe.startswith("https://a.example/")
    assert not set(safe) & (URL_UNSAFE | set("()[]'\n\r\t"))
    assert not re.search(r"&#?\w+;", safe)  # no character reference for the browser to decode
    assert urlsplit(safe).hostname == "a.example"


@pytest.mark.parametrize("address", ["javascript:alert(1)", "http://a.example/", "https:///x", "https://a.example:99999/",
                                     "//a.example/x", "https://user@a.example/", "https://[::1/x", " java\tscript:x",
                                     "data:text/html,x", "https://a b.example/", "https://-a.example/"])
def test_url_refuses_what_is_not_an_https_address_with_a_host(address: str) -> None:
    assert url(address) is None
    assert link("x", address) == "x"


@SETTINGS
@given(label=hostile, value=hostile)
def test_link_is_at_most_one_anchor_to_the_encoded_address(label: str, value: str) -> None:
    address = "https://a.example/" + value
    label = "L " + label
    parsed = _parse(_md(link(label, address)))
    anchors = [a for t, a in parsed.tags if t == "a"]
    assert [t for t, _ in parsed.tags if t != "a"] == ["p"]
    assert anchors == ([{"href": url(address)}] if url(address) else [])
    assert "".join(parsed.text) == _one_line(label)


@SETTINGS
@given(value=hostile)
def test_attr_and_html_text_keep_the_value(value: str) -> None:
    parsed = _parse(f'<a title="{attr(value)}" class=\'{attr(value)}\'>{html_text(value)}</a>')
    assert parsed.tags == [("a", {"title": value, "class": value})]
    assert "".join(parsed.text) == value


@SETTINGS
@given(title=hostile, tag=hostile)
def test_front_matter_is_one_header_whatever_the_title(title: str, tag: str) -> None:
    page = front_matter({"title": title, "tags": [tag]}) + "\n# body\n"
    body, meta = get_data(page)
    assert body.strip() == "# body"
    assert meta == {"title": html.escape(_one_line(title)), "tags": [html.escape(_one_line(tag))]}
    assert "<" not in meta["title"] and '"' not in meta["title"]


# Header text for the YAML emitters: what the records hold (CJK, quotes, colons), what YAML treats specially
# (line breaks of every kind, indicators, lone words like "null"), and characters beyond the BMP.
_YAML_FRAGMENTS = [*FRAGMENTS, "中文标题", "：", "「引」", "😀", "𝔼", "\U0010fffd", "\u2029", "\r\n", "\r", "\x00",
                   "\x7f", "\x80", "\x9f", "\xa0", "\ufeff", "\ufffe", "\ue000", "\u200b", "null", "true", "1e3",
                   "0x1F", "~", "? ", "@", "`", "!!str ", "&a ", "*a", "... ", "'", "''", "x" * 90, " " * 3]
yaml_text = st.lists(st.one_of(st.sampled_from(_YAML_FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)
# Field names (the headers' keys) take libyaml's path; other keys PyYAML's.
yaml_key = st.one_of(st.sampled_from(["title", "search", "boost", "tags", "hide", "x_1", "true", "null", "on", "y",
                                      "No", "_", "a" * 64]), yaml_text)
yaml_header = st.dictionaries(
    yaml_key,
    st.one_of(yaml_text, st.lists(yaml_text, max_size=3), st.integers(), st.booleans(),
              st.dictionaries(yaml_key, st.one_of(st.integers(), yaml_text), max_size=2)),
    max_size=4,
)


_FIELD_NAMES = st.sampled_from(["title", "search", "boost", "tags", "x_1", "true", "null", "on", "No", "a" * 64])
_BMP_TEXT = yaml_text.map(lambda s: re.sub("[\x85\ud800-\udfff\U00010000-\U0010ffff]", "", s))


def _header(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    """Headers like the real ones: field names for keys, values of ``text``."""
    return st.dictionaries(_FIELD_NAMES, st.one_of(
        text, st.lists(text, max_size=3), st.integers(),
        st.dictionaries(_FIELD_NAMES, st.one_of(st.integers(), text), max_size=2)), max_size=4)


@settings(max_examples=400, deadline=None)
@given(fields=st.one_of(yaml_header, _header(yaml_text), _header(_BMP_TEXT)))
def test_the_header_emitter_writes_the_bytes_of_the_pure_python_one(fields: dict) -> None:
    # Headers are written by libyaml where it writes what PyYAML's own emitter writes, else by PyYAML.
    assert escape._yaml_dump(fields) == escape._yaml_dump(fields, fast=False)


def test_headers_are_written_by_libyaml_unless_it_would_write_other_bytes(monkeypatch) -> None:
    used: list[type] = []
    real = yaml.dump
    monkeypatch.setattr(yaml, "dump", lambda data, **kw: used.append(kw["Dumper"]) or real(data, **kw))
    front_matter({"title": "知识蒸馏: \"Teacher\" 'Student'", "search": {"boost": 2}, "tags": ["蒸馏"]})
    assert used == [yaml.CSafeDumper]
    # Where libyaml writes other bytes, PyYAML writes the header: NEL survives the header's cleaning only
    # through the emitter test above, a character beyond the BMP reaches it from any title.
    for title in ("emoji 😀", "𝔼[x]"):
        used.clear()
        assert front_matter({"title": title}) == f"---\ntitle: {title}\n---\n"
        assert used == [yaml.SafeDumper]


@SETTINGS
@given(value=hostile)
def test_code_block_shows_the_content_and_nothing_closes_it(value: str) -> None:
    # Markdown itself turns tabs into spaces and CR into line breaks; the rest must come out as it went in.
    content = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value).replace("\r", "")
    content = content.replace("\t", " ").replace("\x85", " ").replace("\u2028", " ")
    rendered = _md("before\n\n" + code_block(content, "bibtex") + "\n\nafter")
    _assert_one_code_block(rendered, content)
    assert rendered.startswith("<p>before</p>") and rendered.endswith("<p>after</p>")


def _assert_one_code_block(rendered: str, content: str) -> None:
    """One <pre> (Pygments wraps tokens in spans) whose text is ``content``, and no other element."""
    assert {t for t, _ in _parse(rendered).tags} <= {"p", "div", "pre", "span", "code"}
    assert rendered.count("<pre") == 1
    inner = rendered[rendered.index("<pre"):rendered.index("</pre>")]
    assert html.unescape(re.sub(r"<[^>]+>", "", inner)).strip() == content.strip()


def test_code_block_fence_is_longer_than_any_backtick_run() -> None:
    block = code_block("a\n```\n<img src=x onerror=alert(1)>\n`````\nb", "bibtex")
    assert block.startswith("``````bibtex\n") and block.endswith("\n``````")
    _assert_one_code_block(_md(block), "a\n```\n<img src=x onerror=alert(1)>\n`````\nb")
    three = _md("```bibtex\na\n```\n<img src=x onerror=alert(1)>\n```")  # what a 3-backtick fence did
    assert "<img" in three


def _fields(entry: str) -> dict[str, str]:
    library = bibtexparser.parse_string(entry)
    assert not library.failed_blocks and len(library.entries) == 1
    return {f.key: f.value for f in library.entries[0].fields}


@SETTINGS
@given(value=hostile)
def test_bibtex_values_cannot_close_their_field(value: str) -> None:
    entry = (f"@misc{{k,\n  title = {{{{{bibtex_text(value)}}}}},\n  author = {{{bibtex_text(value)}}},\n"
             f"  note = {{{bibtex_latex(value)}}},\n  url = {{{bibtex_verbatim('https://a.example/' + value)}}},\n"
             f"  year = {{2022}}\n}}\n")
    fields = _fields(entry)
    assert set(fields) == {"title", "author", "note", "url", "year"} and fields["year"] == "2022"
    assert "\n" not in fields["url"] and not set(fields["url"]) & set('{}\\" ')


def test_bibtex_latex_keeps_balanced_latex_and_escapes_the_rest() -> None:
    assert bibtex_latex("9395--9404") == "9395--9404"
    assert bibtex_latex("{\\\"o}ber\n  line") == "{\\\"o}ber line"
    assert bibtex_latex("x},note={y") == bibtex_text("x},note={y")


def test_markdown_safe_keeps_markdown_and_defuses_tags() -> None:
    # Record Markdown reaches a page only through markdown_safe, which renders it with the record rules.
    page = _md("## 笔记\n\n" + markdown_safe("**a** <script>alert(1)</script> [b](javascript:alert(1))\n\nx\x02y"))
    assert "<strong>a</strong>" in page
    assert "<script" not in page and 'href="javascript' not in page and "\x02" not in page
