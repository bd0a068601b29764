"""litnotes.site.cjk: Chinese line breaks in Python-Markdown."""

from __future__ import annotations

import markdown
from litnotes.site.cjk import is_wide


def render(text: str) -> str:
    md = markdown.Markdown(extensions=["litnotes.site.cjk", "pymdownx.arithmatex", "admonition"],
                           extension_configs={"pymdownx.arithmatex": {"generic": True}})
    return md.convert(text)


def test_a_line_break_between_chinese_characters_adds_no_space():
    assert render("梳理总结。\n早期的文章") == "<p>梳理总结。早期的文章</p>"
    assert render("结束\n**粗体**开头") == "<p>结束<strong>粗体</strong>开头</p>"  # across inline markup
    assert render("- 列表项\n  继续") == "<ul>\n<li>列表项继续</li>\n</ul>"


def test_other_line_breaks_stay():
    assert render("The English\nline") == "<p>The English\nline</p>"
    assert render("中文\nEnglish") == "<p>中文\nEnglish</p>"
    assert render("한국어\n문장") == "<p>한국어\n문장</p>"  # Korean separates words with spaces
    assert render("段落一。\n\n段落二。") == "<p>段落一。</p>\n<p>段落二。</p>"
    code = render("    代码\n    第二行")
    assert "代码\n第二行" in code
    display = render("$$\n\\text{凸}\n\\text{函数}\n$$")
    assert "\\text{凸}\n\\text{函数}" in display


def test_punctuation_after_inline_math_is_kept_with_it():
    html = render("距离为 $2$。以及 $x$，还有 $y$ 和")
    assert ('<span class="cjk-nobr"><span class="arithmatex">\\(2\\)</span>。</span>' in html)
    assert '<span class="cjk-nobr"><span class="arithmatex">\\(x\\)</span>，</span>' in html
    assert '<span class="arithmatex">\\(y\\)</span> 和' in html  # no punctuation: no wrapper


def test_is_wide():
    assert is_wide("中") and is_wide("。") and is_wide("，") and is_wide("か")
    assert not is_wide("a") and not is_wide(" ") and not is_wide("한")
