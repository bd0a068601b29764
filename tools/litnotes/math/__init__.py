"""Math: KaTeX at build time, equation labels, references and theorem numbers."""
