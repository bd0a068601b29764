"""Build-time KaTeX: rendering, caching, labels and references, and a real site built from fixtures/math."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from litnotes.math.katex import (
    DEFAULT_MACROS,
    Katex,
    KatexError,
    KatexNotInstalled,
    RenderCache,
    Target,
    find_katex,
    katex_css,
    merge_targets,
    render_page_math,
    resolve_refs,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "math"
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}

try:
    DIST = find_katex(ROOT)
except KatexNotInstalled as e:  # pragma: no cover - depends on `make setup`
    pytest.skip(str(e), allow_module_level=True)


@pytest.fixture(scope="module")
def katex() -> Katex:
    return Katex(DIST)


def fake_render(tex: str, display: bool) -> str:
    """Stands in for KaTeX where only the page transform is under test."""
    if "\\bad" in tex:
        raise KatexError("KaTeX parse error: Undefined control sequence: \\bad")
    return f"<K {'D' if display else 'I'}>{tex}</K>"


def arithmatex(tex: str, display: bool = False) -> str:
    """What pymdownx.arithmatex (generic: true) leaves in the HTML."""
    escaped = tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if display:
        return f'<div class="arithmatex">\\[\n{escaped}\n\\]</div>'
    return f'<span class="arithmatex">\\({escaped}\\)</span>'


# --- KaTeX in V8 -----------------------------------------------------------------------------


def test_katex_renders_inline_and_display_html(katex):
    inline = katex.render("x^2", False, DEFAULT_MACROS)
    display = katex.render("x^2", True, DEFAULT_MACROS)
    assert inline.startswith('<span class="katex">') and "katex-display" not in inline
    assert display.startswith('<span class="katex-display">')
    assert '<annotation encoding="application/x-tex">x^2</annotation>' in inline


def test_macro_R_is_blackboard_R(katex):
    def visible(html: str) -> str:
        return re.sub(r"<annotation\b.*?</annotation>", "", html)

    assert visible(katex.render(r"\R", False, DEFAULT_MACROS)) == visible(katex.render(r"\mathbb{R}", False, {}))


def test_bad_formula_raises_katex_message(katex):
    with pytest.raises(KatexError) as e:
        katex.render(r"\frac{1}{", True, {})
    assert str(e.value).startswith("KaTeX parse error: ")


def test_cjk_in_math_is_an_error_but_text_is_fine(katex):
    with pytest.raises(KatexError, match="unicodeTextInMathMode"):
        katex.render("凸", False, {})
    assert "凸" in katex.render(r"\text{凸}", False, {})


def test_missing_katex_tells_the_user_to_run_make_setup(tmp_path):
    with pytest.raises(KatexNotInstalled, match=r"katex\.min\.js: not found.*run `make setup`"):
        find_katex(tmp_path)


def test_katex_css_keeps_only_woff2_fonts_that_exist():
    css, fonts = katex_css(DIST)
    assert fonts and all(f.endswith(".woff2") for f in fonts)
    assert ".ttf" not in css and ".woff)" not in css
    assert all((DIST / f).is_file() for f in fonts)


# --- Cache -----------------------------------------------------------------------------------


def test_cache_renders_each_formula_once_in_memory_and_on_disk(katex, tmp_path):
    cache = RenderCache(katex, DEFAULT_MACROS, tmp_path)
    before = katex.renders
    first = cache.render("a+b", False)
    assert cache.render("a+b", False) == first
    cache.render("a+b", True)  # display mode is another entry
    assert katex.renders - before == 2 and (cache.hits, cache.misses) == (1, 2)
    cache.save()

    again = RenderCache(katex, DEFAULT_MACROS, tmp_path)  # a new process, as far as the cache knows
    assert again.render("a+b", False) == first
    assert katex.renders - before == 2 and again.hits == 1


def test_a_warm_cache_never_starts_katex(katex, tmp_path):
    cache = RenderCache(katex, DEFAULT_MACROS, tmp_path)
    html = cache.render("a+b", False)
    cache.save()
    fresh = Katex(DIST)  # the next build's process
    assert cache.path == RenderCache(fresh, DEFAULT_MACROS, tmp_path).path
    assert RenderCache(fresh, DEFAULT_MACROS, tmp_path).render("a+b", False) == html
    assert not fresh.started, "V8 started although every formula was cached"
    assert RenderCache(fresh, DEFAULT_MACROS, tmp_path).render("c+d", False).startswith('<span class="katex">')
    assert fresh.started


def test_cache_is_keyed_by_macros_and_pruned_to_this_build(katex, tmp_path):
    cache = RenderCache(katex, DEFAULT_MACROS, tmp_path)
    other = RenderCache(katex, {**DEFAULT_MACROS, r"\E": r"\mathbb{E}"}, tmp_path)
    assert cache.path != other.path
    cache.render("old", False)
    cache.save()
    cache.begin_build()
    cache.render("new", False)
    cache.save(prune=True)
    assert '"Inew"' in cache.path.read_text() and "old" not in cache.path.read_text()


# --- Pages: formulas, labels, blocks ---------------------------------------------------------


def test_formulas_are_unescaped_rendered_and_code_is_left_alone():
    html = (
        f"<p>{arithmatex('a < b & c')} and {arithmatex('x', True)}</p>"
        "<p><code>$y$ \\eqref{z}</code></p><pre><code>\\(q\\)</code></pre><!-- \\eqref{c} -->"
    )
    out = render_page_math(html, "", "docs/p.md", fake_render)
    assert "<K I>a < b & c</K>" in out.html
    assert '<div class="math-display"><K D>x</K></div>' in out.html
    assert "<code>$y$ \\eqref{z}</code>" in out.html and "<code>\\(q\\)</code>" in out.html
    assert "<!-- \\eqref{c} -->" in out.html
    assert out.formulas == 2 and not out.problems


def test_labels_number_display_formulas_in_order():
    html = arithmatex(r"a \label{first}", True) + arithmatex("b", True) + arithmatex(r"c \label{second}", True)
    source = "$$\na \\label{first}\n$$\n\n$$\nb\n$$\n\n$$\nc \\label{second}\n$$\n"
    out = render_page_math(html, source, "docs/p.md", fake_render, page_title="P")
    assert '<div class="math-display" id="eq-first"><K D>a \\tag{1}</K></div>' in out.html
    assert '<div class="math-display"><K D>b</K></div>' in out.html
    assert '<div class="math-display" id="eq-second"><K D>c \\tag{2}</K></div>' in out.html
    assert out.targets == [
        Target("first", "equation", 1, "eq-first", "docs/p.md", 2, "式 (1)", "P"),
        Target("second", "equation", 2, "eq-second", "docs/p.md", 10, "式 (2)", "P"),
    ]
    assert out.anchors == ["eq-first", "eq-second"]


def test_theorem_blocks_are_numbered_per_kind_and_proofs_get_a_title():
    html = (
        '<div class="admonition theorem">\n<p class="admonition-title">Jensen \\label{jensen}</p>\n</div>'
        '<div class="admonition definition">\n<p class="admonition-title">Definition</p>\n</div>'
        '<details class="proof">\n<summary>Proof</summary>\n<p>x</p></details>'
        '<div class="admonition theorem inline">\n<p class="admonition-title">Theorem</p>\n</div>'
        '<details class="lemma" open="open">\n<summary>Lemma</summary>\n</details>'
        '<div class="admonition note">\n<p class="admonition-title">Note</p>\n</div>'
    )
    source = '!!! theorem "Jensen \\label{jensen}"\n'
    out = render_page_math(html, source, "docs/p.md", fake_render)
    assert '<div class="admonition theorem" id="thm-jensen">\n<p class="admonition-title">定理 1（Jensen）</p>' in out.html
    assert '<div class="admonition definition" id="def-1">\n<p class="admonition-title">定义 1</p>' in out.html
    assert '<details class="proof" id="proof-1">\n<summary>证明</summary>' in out.html
    assert '<div class="admonition theorem inline" id="thm-2">\n<p class="admonition-title">定理 2</p>' in out.html
    assert '<details class="lemma" id="lem-1" open="open">\n<summary>引理 1</summary>' in out.html
    assert '<p class="admonition-title">Note</p>' in out.html
    assert out.targets == [Target("jensen", "theorem", 1, "thm-jensen", "docs/p.md", 1, "定理 1（Jensen）")]


def test_katex_error_is_located_at_file_line_col():
    source = "# T\n\ntext $x$ and\nmore $\\bad{1}$ here\n"
    html = f"<p>text {arithmatex('x')} and\nmore {arithmatex(chr(92) + 'bad{1}')} here</p>"
    out = render_page_math(html, source, "docs/math/t.md", fake_render)
    [problem] = out.problems
    assert problem.text() == "docs/math/t.md:4:6: error: KaTeX parse error: Undefined control sequence: \\bad"
    assert '<code class="math-error"' in out.html


def test_real_katex_error_through_the_page_transform(katex):
    source = "# T\n\n$$\n\\frac{1}{2\n$$\n"
    out = render_page_math(arithmatex("\\frac{1}{2", True), source, "docs/t.md",
                           lambda tex, d: katex.render(tex, d, DEFAULT_MACROS))
    [problem] = out.problems
    assert (problem.path, problem.line, problem.col) == ("docs/t.md", 4, 1)
    assert problem.message.startswith("KaTeX parse error: ")


def test_repeated_formula_errors_are_located_in_order():
    source = "$\\bad$\n\n$\\bad$\n"
    html = f"<p>{arithmatex(chr(92) + 'bad')}</p><p>{arithmatex(chr(92) + 'bad')}</p>"
    out = render_page_math(html, source, "docs/t.md", fake_render)
    assert [p.line for p in out.problems] == [1, 3]


@pytest.mark.parametrize(
    ("tex", "display", "message"),
    [
        (r"x \label{a}", False, r"\label{a} in inline math: only display math ($$ … $$) is numbered"),
        (r"x \label{a} \label{b}", True, r"one \label per display formula, found 2 (a, b); split the formula"),
        (r"x \tag{3} \label{a}", True, r"\label{a} and \tag in one formula: drop the \tag, the label numbers it"),
        (r"x \label{a b}", True, "label name 'a b' must be letters"),
    ],
)
def test_label_misuse_is_a_problem(tex, display, message):
    out = render_page_math(arithmatex(tex, display), tex, "docs/t.md", fake_render)
    [problem] = out.problems
    assert problem.message.startswith(message) and problem.line == 1
    assert not out.targets
    assert "\\label" not in out.html


# --- References ------------------------------------------------------------------------------


def _targets() -> dict[str, Target]:
    return {
        "convex": Target("convex", "equation", 1, "eq-convex", "docs/math/convex.md", 9, "式 (1)", "凸函数"),
        "jensen": Target("jensen", "theorem", 2, "thm-jensen", "docs/math/jensen.md", 5, "定理 2（Jensen）", "Jensen"),
    }


def _href(target: Target) -> str:
    return ("" if target.path == "docs/math/jensen.md" else "../convex/") + "#" + target.anchor


def test_eqref_and_ref_become_links_across_pages():
    source = "由 \\eqref{convex} 与定理 \\ref{jensen}。\n"
    out = render_page_math(f"<p>{source.strip()}</p>", source, "docs/math/jensen.md", fake_render)
    html, problems = resolve_refs(out.html, "docs/math/jensen.md", _targets(), _href)
    assert not problems
    assert '<a class="math-ref" href="../convex/#eq-convex" title="凸函数 · 式 (1)">(1)</a>' in html
    assert '<a class="math-ref" href="#thm-jensen" title="定理 2（Jensen）">2</a>' in html


def test_unknown_label_is_located_and_suggests_the_closest():
    source = "# K\n\n见 \\eqref{convx}。\n"
    out = render_page_math("<p>见 \\eqref{convx}。</p>", source, "docs/math/kl.md", fake_render)
    html, [problem] = resolve_refs(out.html, "docs/math/kl.md", _targets(), _href)
    assert problem.text() == (
        "docs/math/kl.md:3:3: error: \\eqref{convx}: no \\label{convx} on any page; did you mean 'convex'?"
    )
    assert "(??)" in html


def test_a_label_defined_twice_is_a_problem_naming_both_places():
    known = _targets()
    again = Target("convex", "equation", 4, "eq-convex", "docs/b.md", 12, "式 (4)")
    [problem] = merge_targets(known, [again])
    assert problem.text() == (
        "docs/b.md:12:0: error: \\label{convex} is already defined at docs/math/convex.md:9; labels are site-wide"
    )
    assert known["convex"].path == "docs/math/convex.md"


# --- A real site -----------------------------------------------------------------------------


def make_project(tmp_path: Path, bad_page: Path | None = None, katex: bool = True) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "site", project)
    if katex:
        (project / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    if bad_page is not None:
        shutil.copy(bad_page, project / "docs" / "bad.md")
    return project


def build(project: Path) -> subprocess.CompletedProcess:
    # --strict without -q: quiet mode would drop the warnings strict mode counts.
    return subprocess.run([*MKDOCS, "build", "--strict", "-f", str(project / "mkdocs.yml")],
                          capture_output=True, text=True, env=ENV, timeout=300, cwd=project, check=False)


def article(project: Path, page: str) -> str:
    html = (project / "site" / page / "index.html").read_text(encoding="utf-8")
    return html[html.index("<article"):html.index("</article>")]


def without_code(html: str) -> str:
    return re.sub(r"<pre\b.*?</pre>|<code\b.*?</code>", "", html, flags=re.DOTALL)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("math"))
    result = build(project)
    assert result.returncode == 0, result.stderr
    assert "litnotes-math: 7 formulas, 7 rendered by KaTeX, 0 from cache" in result.stderr
    return project


@pytest.mark.slow
@pytest.mark.parametrize(("page", "formulas"), [("", 6), ("sub/other", 1)])
def test_every_formula_in_the_site_is_katex_html(site, page, formulas):
    html = without_code(article(site, page))
    assert 'class="arithmatex"' not in html
    for delimiter in ("\\(", "\\)", "\\[", "\\]", "$"):
        visible = re.sub(r"<annotation\b.*?</annotation>", "", html, flags=re.DOTALL)
        assert delimiter not in visible, delimiter
    katex = re.findall(r'<span class="katex"><span class="katex-mathml">', html)
    assert len(katex) == formulas
    assert html.count('<span class="katex-html" aria-hidden="true">') == formulas


@pytest.mark.slow
def test_labels_and_refs_resolve_within_and_across_pages(site):
    home, other = article(site, ""), article(site, "sub/other")
    assert 'id="eq-convex"' in home and 'id="eq-aligned"' in home and 'id="eq-square"' in other
    assert '<a class="math-ref" href="#eq-convex" title="式 (1)">(1)</a>' in home
    assert '<a class="math-ref" href="sub/other/#eq-square" title="另一页 · 式 (1)">(1)</a>' in home
    assert '<a class="math-ref" href="#thm-main" title="定理 1（主要定理）">1</a>' in home
    assert '<a class="math-ref" href="../../#eq-convex" title="首页 · 式 (1)">(1)</a>' in other
    assert '<a class="math-ref" href="../../#def-convex-def" title="首页 · 定义 1（凸函数）">1</a>' in other
    assert "\\eqref" not in without_code(home) + without_code(other)
    assert "<code>$x$ \\eqref{convex}</code>" in home


@pytest.mark.slow
def test_theorem_blocks_are_numbered_and_proofs_collapsible(site):
    home = article(site, "")
    assert '<div class="admonition definition" id="def-convex-def">\n<p class="admonition-title">定义 1（凸函数）</p>' in home
    assert '<div class="admonition theorem" id="thm-main">\n<p class="admonition-title">定理 1（主要定理）</p>' in home
    assert '<details class="proof" id="proof-1">\n<summary>证明</summary>' in home
    assert '<p class="admonition-title">定理 2</p>' in home


@pytest.mark.slow
def test_katex_css_and_fonts_are_served_by_the_site_itself(site):
    out = site / "site"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="assets/katex/katex.min.css">' in html
    assert '<link rel="stylesheet" href="assets/math/math.css">' in html
    assert "katex.min.js" not in html and "cdn" not in html.lower()
    css = (out / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\((fonts/[^)]+)\)", css)
    assert len(fonts) > 15 and all(f.endswith(".woff2") for f in fonts)
    for font in fonts:
        assert (out / "assets" / "katex" / font).is_file(), font


@pytest.mark.slow
@pytest.mark.parametrize("bad", sorted((FIXTURES / "bad").glob("*.md")), ids=lambda p: p.stem)
def test_bad_page_fails_the_strict_build_naming_file_and_line(tmp_path, bad):
    result = build(make_project(tmp_path, bad))
    assert result.returncode != 0
    warnings = [ln.removeprefix("WARNING -  ") for ln in result.stderr.splitlines() if ln.startswith("WARNING")]
    golden = bad.with_suffix(".expected")
    if os.environ.get("LITNOTES_UPDATE_GOLDENS"):
        golden.write_text("\n".join(warnings) + "\n", encoding="utf-8")
    assert warnings == golden.read_text(encoding="utf-8").splitlines()
    assert "Aborted with" in result.stdout + result.stderr


@pytest.mark.slow
def test_rebuild_renders_only_what_changed(tmp_path):
    project = make_project(tmp_path)
    assert "7 formulas, 7 rendered by KaTeX, 0 from cache" in build(project).stderr
    assert "7 formulas, 0 rendered by KaTeX, 7 from cache" in build(project).stderr
    page = project / "docs" / "sub" / "other.md"
    page.write_text(page.read_text(encoding="utf-8").replace("(a + b)^2", "(a - b)^2").replace("2ab", "-2ab"),
                    encoding="utf-8")
    assert "7 formulas, 1 rendered by KaTeX, 6 from cache" in build(project).stderr


@pytest.mark.slow
def test_without_katex_the_build_says_to_run_make_setup(tmp_path):
    result = build(make_project(tmp_path, katex=False))
    assert result.returncode != 0
    assert "node_modules/katex/dist/katex.min.js: not found" in result.stderr
    assert "run `make setup`" in result.stderr


def test_equation_number_sits_beside_the_formula_and_inline_ends_in_a_box(katex):
    # On a phone the number must not be drawn over a formula that scrolls (math.css): it
    # comes after KaTeX's box, hidden from screen readers, which read the MathML's number.
    display = katex.render(r"a + b = c \tag{7}", True, DEFAULT_MACROS)
    box, _, tag = display.rpartition('<span class="katex math-tag" aria-hidden="true">')
    assert box.startswith('<span class="katex-display">') and "katex-tag" not in box
    assert '<span class="katex-tag">' in tag and re.sub(r"<[^>]+>", "", tag) == "(7)"
    mathml = box[box.index('<span class="katex-mathml">'):box.index('<span class="katex-html"')]
    assert "(7)" in re.sub(r"<[^>]+>", "", mathml)  # still read out from the MathML
    assert katex.render("a + b", True, DEFAULT_MACROS).count("math-tag") == 0
    # An inline formula's last piece has a box of its own, so "。" can stay with it (reader.css).
    inline = katex.render("a + b", False, DEFAULT_MACROS)
    assert inline.endswith('</span><span class="katex-end" aria-hidden="true"><span class="katex-base">'
                           + inline.rpartition('<span class="katex-base">')[2])
