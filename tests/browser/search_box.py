"""Typing into Material's search box as a reader does, shared by the browser tests."""

from __future__ import annotations

# What Material's result meta line says while the index is still being built.
PENDING = ("正在初始化搜索引擎", "键入以开始搜索")


def type_query(page, query: str):
    """Open the home page, type ``query`` and wait for Material's answer; the result meta line.

    Material queries on keyup. ``keyboard.type()`` sends CJK characters as inserted
    text, like an input method's commit, with no keyup; End releases a key without
    changing the text, as the key that commits the candidate would.  On a phone the
    field opens from a button in the header.
    """
    page.goto("")
    if page.viewport_size["width"] < 1220:
        page.locator("label.md-header__button[for=__search]").click()
    page.locator("input.md-search__input").click()
    page.keyboard.type(query)
    page.keyboard.press("End")
    meta = page.locator(".md-search-result__meta")
    page.wait_for_function(
        "([el, pending]) => el.textContent.trim() && !pending.some(p => el.textContent.includes(p))",
        arg=[meta.element_handle(), list(PENDING)])
    return meta
