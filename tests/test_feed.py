"""The Atom feed of the weekly reports and the site's addresses ("make it yours")."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import yaml
from litnotes.engines.mkdocs import _edit_base
from litnotes.records.validate import load_knowledge_base
from litnotes.site.reports import FEED_PATH, atom_feed, read_reports

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "site"
ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(tmp_path: Path | None = None, site_url: str = "") -> ET.Element:
    kb, _ = load_knowledge_base(FIXTURE)
    docs = FIXTURE / "docs" if tmp_path is None else tmp_path
    return ET.fromstring(atom_feed(read_reports(docs), site_url, "测试 & 知识库", kb.papers))


def test_entries_carry_the_first_paragraph_and_the_papers_discussed():
    entries = _feed().findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["周报 2024-01-05", "周报 2023-12-29"]
    newest = entries[0]
    assert newest.findtext(f"{ATOM}summary") == "本周读了两篇论文。"
    content = newest.findtext(f"{ATOM}content")
    assert newest.find(f"{ATOM}content").get("type") == "html"
    assert content.startswith("<p>本周读了两篇论文。</p>")
    # The report's two ::: paper lines, in order, linked, with the short name; & escaped once.
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', content) == [
        ("papers/follow2021/", "FOLLOW · Following Up: Dense Guidance &amp; More"),
        ("papers/feat2022/", "Feature Maps Considered Helpful"),
    ]
    assert "not-a-directive-inside-code" not in content
    # A report without papers still says what it is about.
    assert entries[1].findtext(f"{ATOM}summary") == "上周没有读论文。"


def test_without_a_site_address_links_are_relative_and_ids_are_not_addresses():
    feed = _feed()
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == FEED_PATH
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == "reports/2024-01-05/"
    assert entry.findtext(f"{ATOM}id").startswith("urn:uuid:")
    assert feed.findtext(f"{ATOM}title") == "测试 & 知识库 · 周报"


def test_with_a_site_address_links_are_absolute():
    feed = _feed(site_url="https://lab.example.org/kd")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://lab.example.org/kd/feed.xml"
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == "https://lab.example.org/kd/reports/2024-01-05/"
    assert entry.findtext(f"{ATOM}id") == "https://lab.example.org/kd/reports/2024-01-05/"
    assert 'href="https://lab.example.org/kd/papers/follow2021/"' in entry.findtext(f"{ATOM}content")


def test_first_paragraph_skips_what_is_not_prose_and_joins_chinese_lines(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "2024-02-02.md").write_text(
        "---\ntitle: 周报\n---\n\n# 周报\n\n::: paper follow2021\n\n> 引用\n\n- 列表\n\n"
        "```text\n代码里的段落\n```\n\n本周读了[这篇](../papers/follow2021.md)，\n感觉**不错**。\n\n第二段。\n",
        encoding="utf-8")
    entry = _feed(tmp_path).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}summary") == "本周读了这篇，感觉不错。"
    content = entry.findtext(f"{ATOM}content")
    assert content.startswith('<p>本周读了<a href="papers/follow2021/">这篇</a>，感觉<strong>不错</strong>。</p>')
    assert "第二段" not in content and "代码里的段落" not in content


def test_mkdocs_yml_sets_no_placeholder_address():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"example\.invalid|github\.com/example", live)
    config = yaml.load(text, Loader=yaml.Loader)
    assert config["theme"]["custom_dir"] == "overrides"
    assert (ROOT / "overrides" / "main.html").is_file()


def test_edit_links_follow_repo_url_and_edit_uri():
    docs, root = ROOT / "docs", ROOT

    def base(**config):
        return _edit_base(SimpleNamespace(**{"edit_uri": None, "repo_url": None, **config}), docs, root, "main")

    assert base() is None  # nothing set: no edit links
    assert base(repo_url="https://github.com/me/kd", edit_uri="edit/trunk/docs/") == \
        "https://github.com/me/kd/edit/trunk/"
    assert base(edit_uri="https://git.example.org/me/kd/-/edit/main/docs/") == \
        "https://git.example.org/me/kd/-/edit/main/"
    assert base(repo_url="https://github.com/me/kd") == "https://github.com/me/kd/edit/main/"
