"""Paper records: the schema, loading, validation, the model and drafting new records."""
