"""The convspec specification: numbered clauses in Markdown chapters."""
