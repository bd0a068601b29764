"""External links: gathering them from records and pages, and checking them over HTTP."""
