-- tsquant:as-admin
-- tsquant:requires db/ta/R__native.sql
-- tsquant:fingerprint select coalesce((select default_version || ' ' || comment from pg_catalog.pg_available_extensions where name = 'tsquant_ta'), 'not available')
-- ta.zip: keys and up to 16 float8 series side by side as rows, the way to turn ta.* arrays into
-- a table. With the tsquant_ta library it is the C function itself (db/ta/native/zip.c: one row
-- per call, streamed; PostgreSQL's multi-argument unnest() takes ~5 s for 16 arrays of 1M values,
-- and a PL/pgSQL wrapper would materialise every row); without it, the same rows from unnest().
-- Created here as administrator (a C function needs a superuser), then given to tsq_owner.

drop function if exists ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[]);

do $zip$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'tsquant_ta') then
        begin
            create function ta.zip(keys anyarray, x1 float8[] default null, x2 float8[] default null, x3 float8[] default null, x4 float8[] default null, x5 float8[] default null, x6 float8[] default null, x7 float8[] default null, x8 float8[] default null, x9 float8[] default null, x10 float8[] default null, x11 float8[] default null, x12 float8[] default null, x13 float8[] default null, x14 float8[] default null, x15 float8[] default null, x16 float8[] default null)
            returns table (key anyelement, v1 float8, v2 float8, v3 float8, v4 float8, v5 float8, v6 float8, v7 float8, v8 float8, v9 float8, v10 float8, v11 float8, v12 float8, v13 float8, v14 float8, v15 float8, v16 float8)
            language c immutable parallel safe security invoker
            as '$libdir/tsquant_ta', 'ta_native_zip';
            return;
        exception when insufficient_privilege or undefined_file or undefined_function then
            raise warning 'ta.zip: native version unavailable (%), using unnest()', sqlerrm;
        end;
    end if;
    create function ta.zip(keys anyarray, x1 float8[] default null, x2 float8[] default null, x3 float8[] default null, x4 float8[] default null, x5 float8[] default null, x6 float8[] default null, x7 float8[] default null, x8 float8[] default null, x9 float8[] default null, x10 float8[] default null, x11 float8[] default null, x12 float8[] default null, x13 float8[] default null, x14 float8[] default null, x15 float8[] default null, x16 float8[] default null)
    returns table (key anyelement, v1 float8, v2 float8, v3 float8, v4 float8, v5 float8, v6 float8, v7 float8, v8 float8, v9 float8, v10 float8, v11 float8, v12 float8, v13 float8, v14 float8, v15 float8, v16 float8)
    language plpgsql immutable parallel safe security invoker
    as $body$
    begin
        -- The same rows as the native ta.zip: checks, then unnest() with NaN as NULL.
        if keys is null then
            return;
        end if;
        if array_ndims(keys) > 1 then
            raise exception 'ta.zip: keys must be a one-dimensional array' using errcode = 'invalid_parameter_value';
        end if;
    if x1 is not null and (array_ndims(x1) > 1 or cardinality(x1) <> cardinality(keys)) then
        raise exception 'ta.zip: x1 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x1)
            using errcode = 'invalid_parameter_value';
    end if;
    if x2 is not null and (array_ndims(x2) > 1 or cardinality(x2) <> cardinality(keys)) then
        raise exception 'ta.zip: x2 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x2)
            using errcode = 'invalid_parameter_value';
    end if;
    if x3 is not null and (array_ndims(x3) > 1 or cardinality(x3) <> cardinality(keys)) then
        raise exception 'ta.zip: x3 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x3)
            using errcode = 'invalid_parameter_value';
    end if;
    if x4 is not null and (array_ndims(x4) > 1 or cardinality(x4) <> cardinality(keys)) then
        raise exception 'ta.zip: x4 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x4)
            using errcode = 'invalid_parameter_value';
    end if;
    if x5 is not null and (array_ndims(x5) > 1 or cardinality(x5) <> cardinality(keys)) then
        raise exception 'ta.zip: x5 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x5)
            using errcode = 'invalid_parameter_value';
    end if;
    if x6 is not null and (array_ndims(x6) > 1 or cardinality(x6) <> cardinality(keys)) then
        raise exception 'ta.zip: x6 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x6)
            using errcode = 'invalid_parameter_value';
    end if;
    if x7 is not null and (array_ndims(x7) > 1 or cardinality(x7) <> cardinality(keys)) then
        raise exception 'ta.zip: x7 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x7)
            using errcode = 'invalid_parameter_value';
    end if;
    if x8 is not null and (array_ndims(x8) > 1 or cardinality(x8) <> cardinality(keys)) then
        raise exception 'ta.zip: x8 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x8)
            using errcode = 'invalid_parameter_value';
    end if;
    if x9 is not null and (array_ndims(x9) > 1 or cardinality(x9) <> cardinality(keys)) then
        raise exception 'ta.zip: x9 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x9)
            using errcode = 'invalid_parameter_value';
    end if;
    if x10 is not null and (array_ndims(x10) > 1 or cardinality(x10) <> cardinality(keys)) then
        raise exception 'ta.zip: x10 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x10)
            using errcode = 'invalid_parameter_value';
    end if;
    if x11 is not null and (array_ndims(x11) > 1 or cardinality(x11) <> cardinality(keys)) then
        raise exception 'ta.zip: x11 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x11)
            using errcode = 'invalid_parameter_value';
    end if;
    if x12 is not null and (array_ndims(x12) > 1 or cardinality(x12) <> cardinality(keys)) then
        raise exception 'ta.zip: x12 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x12)
            using errcode = 'invalid_parameter_value';
    end if;
    if x13 is not null and (array_ndims(x13) > 1 or cardinality(x13) <> cardinality(keys)) then
        raise exception 'ta.zip: x13 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x13)
            using errcode = 'invalid_parameter_value';
    end if;
    if x14 is not null and (array_ndims(x14) > 1 or cardinality(x14) <> cardinality(keys)) then
        raise exception 'ta.zip: x14 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x14)
            using errcode = 'invalid_parameter_value';
    end if;
    if x15 is not null and (array_ndims(x15) > 1 or cardinality(x15) <> cardinality(keys)) then
        raise exception 'ta.zip: x15 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x15)
            using errcode = 'invalid_parameter_value';
    end if;
    if x16 is not null and (array_ndims(x16) > 1 or cardinality(x16) <> cardinality(keys)) then
        raise exception 'ta.zip: x16 must be a one-dimensional array of % values (got %)', cardinality(keys), cardinality(x16)
            using errcode = 'invalid_parameter_value';
    end if;
        return query
        select u.k, nullif(u.v1, 'NaN'::float8), nullif(u.v2, 'NaN'::float8), nullif(u.v3, 'NaN'::float8), nullif(u.v4, 'NaN'::float8), nullif(u.v5, 'NaN'::float8), nullif(u.v6, 'NaN'::float8), nullif(u.v7, 'NaN'::float8), nullif(u.v8, 'NaN'::float8), nullif(u.v9, 'NaN'::float8), nullif(u.v10, 'NaN'::float8), nullif(u.v11, 'NaN'::float8), nullif(u.v12, 'NaN'::float8), nullif(u.v13, 'NaN'::float8), nullif(u.v14, 'NaN'::float8), nullif(u.v15, 'NaN'::float8), nullif(u.v16, 'NaN'::float8)
        from unnest(keys, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16) as u (k, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16);
    end;
    $body$;
end;
$zip$;

alter function ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[]) owner to tsq_owner;
revoke execute on function ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[]) from public;
grant execute on function ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[]) to tsq_loader, tsq_analyst, tsq_trader;

comment on function ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[]) is
'Series side by side as rows: row i = (keys[i], x1[i], …, x16[i]); omitted series give NULL '
'columns, NaN comes back as NULL. Every given series must have as many values as keys. The fast '
'way to store ta.* results: insert into t select (z).key, (z).v1, (z).v2 from (select ta.zip(ts, '
'ta.sma(c), ta.rsi(c)) as z from s) as q (a SELECT-list call streams the rows). Native (C) when '
'tsquant_ta is installed, else unnest(); same rows either way.';
