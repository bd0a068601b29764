"""litnotes: a literature-notes knowledge base built from one YAML record per paper.

The core is pure: :func:`load_knowledge_base` reads ``papers/`` and returns the
records together with every problem found; :mod:`litnotes.site.pages` turns the
records into Markdown pages.  Only :mod:`litnotes.engines.mkdocs` knows about MkDocs.
"""

from litnotes.problems import Problem

__all__ = ["LitnotesError", "Problem", "__version__"]
__version__ = "0.1.0"


class LitnotesError(Exception):
    """Base class of the errors litnotes raises for a caller's mistake."""
