-- Extension script of tsquant_ta, assembled by the Makefile from the *.sql files of this folder
-- in name order (CREATE EXTENSION runs it with search_path = ta_native, so names are unqualified).
-- Every function is a private kernel the PL/pgSQL ta.* functions call when the
-- extension is installed (db/ta/R__native.sql); users call ta.*, not these.

create function version()
returns text
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_version';

comment on function version() is
'Version and source fingerprint of the tsquant_ta library the server loaded.';
