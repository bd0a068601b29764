"""Search as a reader uses it, answered by litnotes' own worker from the prebuilt index.

The other browser tests check what Material's search box lists (the pages found
before, DIST first, no boilerplate in snippets); these check what the worker
adds or must keep: it is the worker that runs, words complete while typing,
snippets mark the match, a query without results says so, a result opens its
page, and a query typed before the index is ready is answered.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from search_box import type_query

pytestmark = pytest.mark.browser

WORKER = "assets/litnotes/search-worker.js"


def _result_pages(page) -> list[str]:
    hrefs = page.locator("li.md-search-result__item > a.md-search-result__link").evaluate_all(
        "els => els.map(e => e.href)")
    base = urlsplit(page.url).path
    return [urlsplit(h).path.removeprefix(base) for h in hrefs]


def _translation(page, key: str) -> str:
    return json.loads(page.locator("#__config").text_content())["translations"][key]


def test_the_pages_start_litnotes_worker_and_nothing_of_lunr(page, base_url):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    type_query(page, "DIST")
    config = json.loads(page.locator("#__config").text_content())
    assert config["search"].endswith(WORKER), config["search"]
    assert any(u.endswith(WORKER) for u in requests), requests
    assert any(u.endswith("search/litnotes-index.json") for u in requests), requests
    lunr = [u for u in requests if "lunr" in u or "/workers/search." in u]
    assert not lunr, f"Material's lunr worker was loaded: {lunr}"


def test_a_word_is_found_and_completed_while_it_is_typed(page):
    type_query(page, "condens")
    assert "papers/kcd2022/" in _result_pages(page)
    # Material shows the worker's suggestion after the text typed (search.suggest).
    assert page.locator(".md-search__suggest").inner_text() == "condensation"


def test_the_start_of_a_chinese_word_finds_it(page):
    type_query(page, "皮尔")
    assert "papers/dist2022/" in _result_pages(page)


def test_a_snippet_marks_what_was_found(page):
    type_query(page, "皮尔森")
    marks = page.locator(".md-search-result__article mark").all_inner_texts()
    assert "皮尔森" in marks, marks[:10]
    dist = page.locator("a.md-search-result__link[href*='papers/dist2022/']").first
    assert dist.count() and "皮尔森" in dist.locator("xpath=..").inner_text()


def test_dist_is_first_and_its_title_is_marked(page):
    type_query(page, "DIST")
    assert _result_pages(page)[0] == "papers/dist2022/"
    first = page.locator("li.md-search-result__item").first
    assert "DIST" in first.locator("h1 mark, h2 mark").all_inner_texts()


def test_a_query_without_results_says_so(page):
    meta = type_query(page, "zqxjv")
    assert meta.inner_text().strip() == _translation(page, "search.result.none")
    assert page.locator("li.md-search-result__item").count() == 0


def test_a_missing_word_is_struck_through(page):
    # Like Material: a page with some of the words is listed, the words it lacks are shown struck through.
    type_query(page, "DIST zqxjv")
    assert _result_pages(page)[0] == "papers/dist2022/"
    first = page.locator("li.md-search-result__item").first
    assert first.locator(".md-search-result__terms del").all_inner_texts() == ["zqxjv"]


def test_clicking_a_result_opens_its_page(page, base_url, kb):
    type_query(page, "DIST")
    page.locator("li.md-search-result__item > a.md-search-result__link").first.click()
    page.wait_for_url(f"{base_url}papers/dist2022/**")
    assert kb.papers["dist2022"].title in page.locator("article h1").inner_text()
    # search.highlight: the page marks the word searched for.
    page.wait_for_selector("article mark[data-md-highlight]")


def test_a_query_typed_at_once_is_answered(page):
    # No wait for the index: the worker answers as soon as it has loaded it.
    page.goto("")
    page.locator("input.md-search__input").click()
    page.keyboard.type("Condensation")
    page.wait_for_selector("a.md-search-result__link[href*='papers/kcd2022/']", timeout=5_000)
