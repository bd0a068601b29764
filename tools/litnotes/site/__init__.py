"""From records and hand-written pages to finished Markdown: pages, directives, indexes, charts, exports, reports."""
