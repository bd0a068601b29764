"""The adapters: the only code that knows which engine builds the site."""
