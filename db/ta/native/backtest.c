/*
 * Backtest simulation: port of the loop of perf._simulate (db/perf/R__backtest_kernel.sql).
 *
 * perf._simulate checks its arguments (lengths, NULL/NaN prices, positive opens, fractions) and
 * then calls this kernel when the extension is installed, so the kernel only runs the loop; it
 * still checks the lengths it reads. Same statements in the same order as the PL/pgSQL, so the
 * same bits: NULL stop/target levels are NaN here (every comparison with them is false, as with a
 * NULL in PL/pgSQL), and risk sizing calls the same SQL function, risk.position_size, with the
 * same float8 <-> numeric casts.
 */
#include "tsquant_ta.h"

#include "catalog/pg_type.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

/* A boolean[] argument: true only where the element is true (NULL and missing are false). */
static bool *
bool_arg(FunctionCallInfo fcinfo, int argno, int *n)
{
	ArrayType  *a;
	bool	   *out;
	const bool *data;
	bits8	   *bitmap;

	*n = 0;
	if (PG_ARGISNULL(argno))
		return NULL;
	a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(a) != BOOLOID)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("ta_native: expected a boolean[] argument")));
	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	out = palloc(sizeof(bool) * (*n > 0 ? *n : 1));
	data = (const bool *) ARR_DATA_PTR(a);
	bitmap = ARR_NULLBITMAP(a);
	for (int i = 0; i < *n; i++)
	{
		if (bitmap && (bitmap[i / 8] & (1 << (i % 8))) == 0)
			out[i] = false;
		else
			out[i] = *data++;
	}
	return out;
}

/* int4[] with NULL where isnull[i]. */
static Datum
int_array(const int32 *v, const bool *isnull, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(INT4OID));
	for (int i = 0; i < n; i++)
		d[i] = Int32GetDatum(v[i]);
	return PointerGetDatum(construct_md_array(d, (bool *) isnull, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
}

/* text[] with NULL for a NULL string. */
static Datum
text_array(const char **v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	bool	   *isnull = palloc(sizeof(bool) * (n > 0 ? n : 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	for (int i = 0; i < n; i++)
	{
		isnull[i] = v[i] == NULL;
		d[i] = isnull[i] ? (Datum) 0 : PointerGetDatum(cstring_to_text(v[i]));
	}
	return PointerGetDatum(construct_md_array(d, isnull, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

/* risk.position_size, the 10-argument numeric form: the function perf._simulate calls. */
typedef struct
{
	FmgrInfo	flinfo;
	Datum		specs[6];
	bool		specs_null[6];
	double		contract_size;
} risk_sizing;

static void
risk_sizing_init(risk_sizing *rs, FunctionCallInfo fcinfo, int argno)
{
	Oid			argtypes[10];
	Oid			fn;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	ArrayType  *a;

	for (int i = 0; i < 10; i++)
		argtypes[i] = NUMERICOID;
	fn = LookupFuncName(list_make2(makeString("risk"), makeString("position_size")), 10, argtypes, false);
	fmgr_info(fn, &rs->flinfo);
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("ta_native.backtest_simulate: risk sizing needs the instrument specs")));
	a = PG_GETARG_ARRAYTYPE_P(argno);
	deconstruct_array(a, NUMERICOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	if (nelems != 7 || nulls[6])
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.backtest_simulate: the instrument specs need 7 values and a contract size")));
	for (int i = 0; i < 6; i++)
	{
		rs->specs[i] = elems[i];
		rs->specs_null[i] = nulls[i];
	}
	rs->contract_size = DatumGetFloat8(DirectFunctionCall1(numeric_float8, elems[6]));
}

/* risk.position_size(cash, risk, price, stop, specs...)::float8 * contract size */
static double
risk_sizing_quantity(risk_sizing *rs, double cash, double risk, double price, double stop)
{
	LOCAL_FCINFO(call, 10);
	Datum		result;

	InitFunctionCallInfoData(*call, &rs->flinfo, 10, InvalidOid, NULL, NULL);
	call->args[0].value = DirectFunctionCall1(float8_numeric, Float8GetDatum(cash));
	call->args[1].value = DirectFunctionCall1(float8_numeric, Float8GetDatum(risk));
	call->args[2].value = DirectFunctionCall1(float8_numeric, Float8GetDatum(price));
	call->args[3].value = DirectFunctionCall1(float8_numeric, Float8GetDatum(stop));
	for (int i = 0; i < 4; i++)
		call->args[i].isnull = false;
	for (int i = 0; i < 6; i++)
	{
		call->args[4 + i].value = rs->specs[i];
		call->args[4 + i].isnull = rs->specs_null[i];
	}
	result = FunctionCallInvoke(call);
	if (call->isnull)
		return NAN;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, result)) * rs->contract_size;
}

PG_FUNCTION_INFO_V1(ta_native_backtest_simulate);

/*
 * ta_native.backtest_simulate(open, high, low, close, entries, exits, init_cash, fees, slippage,
 * fraction, stop_loss, take_profit, risk, specs) -> the OUT record of perf._simulate.
 */
Datum
ta_native_backtest_simulate(PG_FUNCTION_ARGS)
{
	ts_series	open = ts_arg_series(fcinfo, 0);
	ts_series	high = ts_arg_series(fcinfo, 1);
	ts_series	low = ts_arg_series(fcinfo, 2);
	ts_series	close = ts_arg_series(fcinfo, 3);
	int			n_entries,
				n_exits;
	bool	   *entries = bool_arg(fcinfo, 4, &n_entries);
	bool	   *exits = bool_arg(fcinfo, 5, &n_exits);
	double		cash = ts_arg_float8(fcinfo, 6, "", "");
	double		fees = ts_arg_float8(fcinfo, 7, "", "");
	double		slippage = ts_arg_float8(fcinfo, 8, "", "");
	double		fraction = ts_arg_float8(fcinfo, 9, "", "");
	double		stop_loss = ts_arg_float8(fcinfo, 10, "", "");
	double		take_profit = ts_arg_float8(fcinfo, 11, "", "");
	bool		sized_by_risk = !PG_ARGISNULL(12);
	double		risk = ts_arg_float8(fcinfo, 12, "", "");
	bool		stops = !isnan(stop_loss) || !isnan(take_profit);
	int			n = open.n;
	risk_sizing rs;
	double	   *position,
			   *cash_out,
			   *equity;
	int			cap = 16;
	int			k = 0;
	int32	   *t_entry,
			   *t_exit;
	bool	   *t_exit_null;
	double	   *t_qty,
			   *t_cost,
			   *t_entry_price,
			   *t_exit_price,
			   *t_fees,
			   *t_pnl;
	const char **t_reason;
	double		qty = 0.0;
	int			pending = 0;
	double		price,
				spend = 0.0,
				max_qty,
				stop = NAN,
				target = NAN,
				exit_price,
				proceeds,
				entry_fee = 0.0,
				cost = 0.0;
	const char *reason = NULL;
	Datum		values[12];

	if (close.n != n || n_entries != n || n_exits != n || (stops && (high.n != n || low.n != n)))
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("ta_native.backtest_simulate: the arrays must have one element per bar")));
	if (sized_by_risk)
		risk_sizing_init(&rs, fcinfo, 13);
	position = palloc(sizeof(double) * (n > 0 ? n : 1));
	cash_out = palloc(sizeof(double) * (n > 0 ? n : 1));
	equity = palloc(sizeof(double) * (n > 0 ? n : 1));
	t_entry = palloc(sizeof(int32) * cap);
	t_exit = palloc(sizeof(int32) * cap);
	t_exit_null = palloc(sizeof(bool) * cap);
	t_qty = palloc(sizeof(double) * cap);
	t_cost = palloc(sizeof(double) * cap);
	t_entry_price = palloc(sizeof(double) * cap);
	t_exit_price = palloc(sizeof(double) * cap);
	t_fees = palloc(sizeof(double) * cap);
	t_pnl = palloc(sizeof(double) * cap);
	t_reason = palloc(sizeof(char *) * cap);

	for (int i = 0; i < n; i++)
	{
		exit_price = NAN;
		if (pending == 1)
		{
			price = open.v[i] * (1 + slippage);
			max_qty = cash / (price * (1 + fees));
			if (!sized_by_risk)
			{
				spend = cash * fraction;
				qty = spend / (price * (1 + fees));
			}
			else
			{
				qty = risk_sizing_quantity(&rs, cash, risk, price, price * (1 - stop_loss));
				if (qty >= max_qty)
				{
					qty = max_qty;
					spend = cash;
				}
				else
					spend = qty * price * (1 + fees);
			}
			if (qty > 0)
			{
				cash = cash - spend;
				cost = spend;
				entry_fee = qty * price * fees;
				stop = price * (1 - stop_loss);
				target = price * (1 + take_profit);
				if (k == cap)
				{
					cap *= 2;
					t_entry = repalloc(t_entry, sizeof(int32) * cap);
					t_exit = repalloc(t_exit, sizeof(int32) * cap);
					t_exit_null = repalloc(t_exit_null, sizeof(bool) * cap);
					t_qty = repalloc(t_qty, sizeof(double) * cap);
					t_cost = repalloc(t_cost, sizeof(double) * cap);
					t_entry_price = repalloc(t_entry_price, sizeof(double) * cap);
					t_exit_price = repalloc(t_exit_price, sizeof(double) * cap);
					t_fees = repalloc(t_fees, sizeof(double) * cap);
					t_pnl = repalloc(t_pnl, sizeof(double) * cap);
					t_reason = repalloc(t_reason, sizeof(char *) * cap);
				}
				k++;
				t_entry[k - 1] = i + 1;
				t_qty[k - 1] = qty;
				t_cost[k - 1] = spend;
				t_entry_price[k - 1] = price;
			}
			else
				qty = 0.0;
		}
		else if (pending == -1)
		{
			exit_price = open.v[i] * (1 - slippage);
			reason = "signal";
		}
		if (stops && qty > 0 && isnan(exit_price))
		{
			if (open.v[i] <= stop)
			{
				exit_price = open.v[i];
				reason = "stop_loss";
			}
			else if (open.v[i] >= target)
			{
				exit_price = open.v[i];
				reason = "take_profit";
			}
			else if (low.v[i] <= stop)
			{
				exit_price = stop;
				reason = "stop_loss";
			}
			else if (high.v[i] >= target)
			{
				exit_price = target;
				reason = "take_profit";
			}
			exit_price = exit_price * (1 - slippage);
		}
		if (!isnan(exit_price))
		{
			proceeds = qty * exit_price * (1 - fees);
			cash = cash + proceeds;
			t_exit[k - 1] = i + 1;
			t_exit_null[k - 1] = false;
			t_exit_price[k - 1] = exit_price;
			t_fees[k - 1] = entry_fee + qty * exit_price * fees;
			t_pnl[k - 1] = proceeds - cost;
			t_reason[k - 1] = reason;
			qty = 0.0;
		}
		position[i] = qty;
		cash_out[i] = cash;
		equity[i] = cash + qty * close.v[i];
		pending = 0;
		if (i < n - 1)
		{
			if (qty == 0)
			{
				if (entries[i] && !exits[i])
					pending = 1;
			}
			else if (exits[i] && !entries[i])
				pending = -1;
		}
	}
	if (qty > 0)
	{
		/* the last trade is still open: its exit fields are NULL */
		t_exit[k - 1] = 0;
		t_exit_null[k - 1] = true;
		t_exit_price[k - 1] = NAN;
		t_fees[k - 1] = entry_fee;
		t_pnl[k - 1] = NAN;
		t_reason[k - 1] = NULL;
	}
	values[0] = ts_array(position, n);
	values[1] = ts_array(cash_out, n);
	values[2] = ts_array(equity, n);
	values[3] = int_array(t_entry, NULL, k);
	values[4] = int_array(t_exit, t_exit_null, k);
	values[5] = ts_array(t_qty, k);
	values[6] = ts_array(t_cost, k);
	values[7] = ts_array(t_entry_price, k);
	values[8] = ts_array(t_exit_price, k);
	values[9] = ts_array(t_fees, k);
	values[10] = ts_array(t_pnl, k);
	values[11] = text_array(t_reason, k);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 12));
}
