-- Max position size, max exposure per instrument and in total; limits stop entries, never exits.
begin;
select plan(12);
\ir ../pgtap_fixtures/trading.sql

select risk.set_limit('max_position_quantity', '5');
select is((select (allowed, reason) from risk.check_order(:iid, 'buy', 6)),
    row(false, 'max position size: the position after the order would be 6, the limit is 5'::text),
    'an entry beyond the max position size is refused');
select ok((select allowed from risk.check_order(:iid, 'buy', 5)), 'an entry up to the limit passes');
select pg_temp.open_position(:iid, 'buy', 3, 100);
select is((select reason from risk.check_order(:iid, 'buy', 3)),
    'max position size: the position after the order would be 6, the limit is 5', 'the open position counts');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 3)), row(true, true),
    'an exit passes whatever the limits');
select risk.set_instrument_limit(:iid, 10, null);
select ok((select allowed from risk.check_order(:iid, 'buy', 3)), 'a per-instrument limit overrides the global one');

select risk.set_limit('max_instrument_exposure', '700');
select is((select reason from risk.check_order(:iid, 'buy', 5)),
    'max exposure for instrument ' || :iid || ': 800.00 after the order, the limit is 700',
    'exposure per instrument = |position after| × latest close (8 × 100)');
select ok((select allowed from risk.check_order(:iid, 'buy', 4, 100)), 'exactly at the exposure limit passes');

select risk.set_limit('max_total_exposure', '500');
select is((select reason from risk.check_order(:iid2, 'buy', 5)),
    'max total exposure: 550.00 after the order, the limit is 500',
    'total exposure adds the other positions at their closes (300 + 5 × 50)');
select ok((select allowed from risk.check_order(:iid2, 'buy', 4)), '300 + 200 = 500 passes');
select ok((select allowed from risk.check_order(:iid, 'sell', 1)), 'reducing still passes');

-- trading.submit_order enforces the same rules: a refused order leaves no row.
select throws_ok(format($$select trading.submit_order(%s, 'buy', 5)$$, :iid2), 'TQR01',
    'trading.submit_order: refused by risk: max total exposure: 550.00 after the order, the limit is 500',
    'submit_order raises TQR01 with the reason');
select is((select count(*)::int from trading.orders where instrument_id = :iid2), 0, 'and no order row exists');

select * from finish();
rollback;
