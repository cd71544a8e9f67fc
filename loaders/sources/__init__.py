"""Source modules: each only knows its format or API (parsing, paging), never the database."""
