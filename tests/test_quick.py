"""What the preview's quick render compares between rebuilds: every file under the folders an edit can touch."""

from __future__ import annotations

import logging
import os

from litnotes.engines.mkdocs_quick import changes, quiet, stamps


def test_stamps_tell_changed_added_and_removed_files_apart(tmp_path):
    papers, docs = tmp_path / "papers", tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    papers.mkdir()
    (papers / "a.yaml").write_text("title: A\n", encoding="utf-8")
    (papers / "b.yaml").write_text("title: B\n", encoding="utf-8")
    (docs / "sub" / "page.md").write_text("# P\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\n", encoding="utf-8")
    before = stamps([papers, docs], [config])
    assert set(before) == {str(papers / "a.yaml"), str(papers / "b.yaml"), str(docs / "sub" / "page.md"),
                           str(config)}
    assert not changes(before, stamps([papers, docs], [config]))  # nothing happened

    (papers / "a.yaml").write_text("title: A longer\n", encoding="utf-8")  # a new size
    page = docs / "sub" / "page.md"
    page.write_text("# Q\n", encoding="utf-8")  # same size: the modification time tells
    st = page.stat()
    os.utime(page, ns=(st.st_atime_ns, before[str(page)][0] + 1_000_000))
    (papers / "b.yaml").unlink()
    (papers / "c.yaml").write_text("title: C\n", encoding="utf-8")
    diff = changes(before, stamps([papers, docs], [config]))
    assert diff.changed == {str(papers / "a.yaml"), str(page)}
    assert diff.added == {str(papers / "c.yaml")} and diff.removed == {str(papers / "b.yaml")}


def test_a_missing_folder_or_file_has_no_stamps(tmp_path):
    assert stamps([tmp_path / "nowhere"], [tmp_path / "mkdocs.yml"]) == {}


def test_quiet_keeps_this_threads_records_from_the_log_and_tells_the_worst(caplog):
    logger = logging.getLogger("mkdocs.plugins.test_quick")
    with caplog.at_level(logging.INFO, logger="mkdocs"), quiet() as heard:
        logger.info("read a page")
        logger.warning("a link leads nowhere")
    assert heard.worst == logging.WARNING and heard.first == "a link leads nowhere"
    assert "a link leads nowhere" not in caplog.text
    logger.warning("after")
    assert "after" in caplog.text
