"""The MkDocs adapter of the records (with ``mathplugin`` and ``watch``, the only code that knows MkDocs).

It loads the records, logs their problems (``--strict`` turns them into a
failed build), adds the rendered pages as in-memory files, expands directives
in hand-written pages and watches ``papers/`` under ``mkdocs serve`` (with native
file-system events, :mod:`litnotes.engines.watch`).
"""

from __future__ import annotations

import dataclasses
import logging
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from litnotes.site.directives import expand
from litnotes.site.pages import paper_path, render_site
from litnotes.site.reports import read_reports
from litnotes.records.validate import load_knowledge_base
from litnotes.engines.watch import use_native_events

__all__ = ["LitnotesPlugin"]

log = logging.getLogger("mkdocs.plugins.litnotes")

_ASSETS = ("litnotes.css", "litnotes.js", "reader.css")


class _Config(Config):
    papers = c.Type(str, default="papers")
    """Records folder, relative to the folder of mkdocs.yml."""
    edit_branch = c.Type(str, default="main")
    """Branch that the 'edit this record' links point at."""
    watcher = c.Choice(("native", "polling"), default="native")
    """How ``mkdocs serve`` notices edits: the platform's file-system events, or MkDocs's polling."""


def _edit_base(config, docs: Path, root: Path, branch: str) -> str | None:
    """The address that repository paths are appended to for 'edit' links, if the site has one."""
    edit_uri = config.edit_uri or ""
    if edit_uri and config.repo_url and not edit_uri.startswith(("http://", "https://")):
        # As MkDocs reads it: relative to the repository, so the branch is named once.
        edit_uri = urljoin(config.repo_url.rstrip("/") + "/", edit_uri)
    if edit_uri.startswith(("http://", "https://")):
        # edit_uri names the docs folder; its parent is the repository root.
        docs_rel = docs.relative_to(root).as_posix() if docs.is_relative_to(root) else docs.name
        return urljoin(edit_uri, "../" * (docs_rel.count("/") + 1))
    if config.repo_url:
        return f"{config.repo_url.rstrip('/')}/edit/{branch}/"
    return None


class LitnotesPlugin(BasePlugin[_Config]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).parent
        self.docs = Path(config.docs_dir)
        for name in _ASSETS:
            target = f"assets/litnotes/{name}"
            bucket = config.extra_css if name.endswith(".css") else config.extra_javascript
            if target not in bucket:
                bucket.append(target)
        return config

    def on_files(self, files: Files, config) -> Files:
        docs_rel = self.docs.relative_to(self.root).as_posix() if self.docs.is_relative_to(self.root) else str(self.docs)
        self.kb, problems = load_knowledge_base(self.root, self.config.papers, docs_rel)
        for problem in problems:
            log.warning(problem.text())
        self.reports = read_reports(self.docs)
        edit_base = _edit_base(config, self.docs, self.root, self.config.edit_branch)
        pages = render_site(self.kb, self.reports, edit_base=edit_base, site_url=config.site_url,
                            site_name=config.site_name)
        self.edit_base = edit_base
        self.sources = {paper_path(p.id): p.path for p in self.kb.papers.values()}
        for path, content in pages.items():
            if files.get_file_from_path(path) is not None:
                log.warning(f"{docs_rel}/{path}: this page is generated from the records; "
                            "remove the hand-written file of the same name")
                continue
            files.append(File.generated(config, path, content=content))
        for name in _ASSETS:
            data = resources.files("litnotes").joinpath("assets", name).read_bytes()
            files.append(File.generated(config, f"assets/litnotes/{name}", content=data))
        return files

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        source = self.sources.get(page.file.src_uri) if page.file.generated_by else None
        if source and self.edit_base:
            # The edit button of a paper page opens its YAML record, not a docs/ file.
            page.edit_url = self.edit_base + source
        if ":::" not in markdown or page.file.generated_by:
            return markdown
        docs_rel = Path(config.docs_dir).name
        text, problems = expand(markdown, page.file.src_uri, self.kb, self.reports,
                                source=f"{docs_rel}/{page.file.src_uri}")
        # MkDocs hands over the Markdown without its front matter: shift lines back.
        offset = page.file.content_string.count("\n") - markdown.count("\n")
        for problem in problems:
            log.warning(dataclasses.replace(problem, line=problem.line + max(offset, 0)).text())
        return text

    def on_serve(self, server, config, builder):
        server.watch(str(self.root / self.config.papers))
        if self.config.watcher == "native":
            reason = use_native_events(server)
            if reason:
                log.info(f"litnotes: mkdocs serve polls for changes: {reason}")
        return server
