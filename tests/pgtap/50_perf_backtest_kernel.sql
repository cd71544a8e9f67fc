-- perf.backtest_kernel worked by hand: next-bar-open fills, slippage, fees on the notional,
-- all-in buys and whole-position sells, ignored signals. Each example runs on the PL/pgSQL loop
-- and on the native loop (the same loop again when tsquant_ta is not installed).
begin;
select plan(23);

-- a ≈ b element by element (1e-12 relative), same length
create function pg_temp.close_to(p_got float8[], p_want float8[])
returns boolean
language sql
immutable
return cardinality(p_got) = cardinality(p_want)
    and (select bool_and(abs(g - w) <= 1e-12 * greatest(1, abs(w))) from unnest(p_got, p_want) as u (g, w));

create function pg_temp.examples(p_kernels text)
returns setof text
language plpgsql
as $$
declare
    k record;
    q float8;
begin
    perform set_config('tsquant.native_kernels', p_kernels, true);

    -- The buy signal of bar 2 fills at bar 3's open 11: 10000 / 11 units, cash 0. The sell
    -- signal of bar 4 fills at bar 5's open 13: cash = 10000 / 11 × 13.
    select * into k from perf.backtest_kernel('{10,11,11,12,13}', '{10.5,11.5,12.5,13.5,14.5}', '{f,t,f,f,f}', '{f,f,f,t,f}');
    q := 10000 / 11::float8;
    return next ok(pg_temp.close_to(k.position, array[0, 0, q, q, 0]), p_kernels || ': position after each bar''s fills');
    return next ok(pg_temp.close_to(k.cash, array[10000, 10000, 0, 0, q * 13]), p_kernels || ': all in, then all out at the next open');
    return next ok(pg_temp.close_to(k.equity, array[10000, 10000, q * 12.5, q * 13.5, q * 13]), p_kernels || ': equity = cash + position × close');

    -- Fees 1 %, slippage 1 %: the buy fills at 100 × 1.01 = 101, quantity = 10000 / (101 × 1.01)
    -- = 98.0296…; the sell at 120 × 0.99 = 118.8, cash = quantity × 118.8 × 0.99 = 11529.4579…
    select * into k from perf.backtest_kernel('{100,100,120,120}', '{100,110,120,130}', '{t,f,f,f}', '{f,f,t,f}', 10000, 0.01, 0.01);
    q := 10000 / (101 * 1.01);
    return next ok(pg_temp.close_to(k.position, array[0, q, q, 0]), p_kernels || ': with fees the buy gets cash / (price × (1 + fees))');
    return next ok(abs(k.cash[4] - 11529.457896284678) < 1e-9 and abs(q * 118.8 * 0.99 - 11529.457896284678) < 1e-9,
        p_kernels || ': the sell pays fees on its notional: 11529.4579');

    -- An entry while long and an exit while flat do nothing; so does a bar with both.
    select * into k from perf.backtest_kernel('{10,10,10,10,10,10}', '{10,10,10,10,10,10}',
        '{f,t,t,t,f,t}', '{t,f,f,t,t,f}');
    return next ok(pg_temp.close_to(k.position, array[0, 0, 1000, 1000, 1000, 0]),
        p_kernels || ': exit while flat, entries while long and entry+exit on one bar are ignored');

    -- A signal on the last bar never fills.
    select * into k from perf.backtest_kernel('{10,11,12}', '{10,11,12}', '{f,f,t}', '{f,f,f}');
    return next ok(pg_temp.close_to(k.position, array[0, 0, 0]), p_kernels || ': no bar after the last one: no fill');

    -- NULL signals are false.
    select * into k from perf.backtest_kernel('{10,11,12,13}', '{10,11,12,13}', '{null,t,null,null}', '{null,null,null,null}');
    return next ok(pg_temp.close_to(k.cash, array[10000, 10000, 0, 0]), p_kernels || ': NULL signals are false');

    -- Init cash and no signal at all.
    select * into k from perf.backtest_kernel('{5,6}', '{5,6}', '{f,f}', '{f,f}', 250);
    return next ok(pg_temp.close_to(k.equity, array[250, 250]), p_kernels || ': no signal: equity is the initial cash');
    return next is((select cardinality(x."position") from perf.backtest_kernel('{}', '{}', '{}', '{}') as x), 0,
        p_kernels || ': no bars: empty arrays');
end;
$$;

select * from pg_temp.examples('off');
select * from pg_temp.examples('on');

select throws_ok($$select * from perf.backtest_kernel('{1,2,3}', '{1,2}', '{f,f,f}', '{f,f,f}')$$, '2202E',
    'perf.backtest_kernel: the arrays must have one element per bar (open 3, close 2, entries 3, exits 3)',
    'arrays of different lengths are refused');
select throws_ok($$select * from perf.backtest_kernel('{1,null}', '{1,2}', '{f,f}', '{f,f}')$$, '22023',
    'perf.backtest_kernel: open and close must not contain NULL or NaN', 'a NULL open is refused');
select throws_ok($$select * from perf.backtest_kernel('{1,2}', '{1,2}', '{f,f}', '{f,f}', 10000, 1)$$, '22023',
    'perf.backtest_kernel: fees and slippage are fractions in [0, 1) (got fees 1, slippage 0)', 'a fee of 100 % is refused');

select * from finish();
rollback;
