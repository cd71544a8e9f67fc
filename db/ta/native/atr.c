/*
 * ATR and NATR kernels: port of ta._atr_step, ta._atr_core, ta.atr and ta.natr (db/ta/R__atr.sql).
 */
#include "tsquant_ta.h"

/*
 * Wilder ATR over the chunk h/l/c[0..m) after the bars summarised by state (nstate = 0: none).
 * out gets m values, new_state 3: [count, previous close, ATR or running true-range sum].
 * The PL/pgSQL's ta._mul branch for a tiny ATR is the plain C product.
 */
static void
atr_step(const double *state, int nstate, const double *h, const double *l, const double *c, int m,
		 int period, double *out, double *new_state)
{
	double		beta = (double) (period - 1) / period;
	double		alpha = 1 - (double) (period - 1) / period;
	int64		count = 0;
	double		prev_close = NAN;
	double		atr = 0.0;
	int64		first;
	int64		t;

	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		prev_close = ts_state_at(state, nstate, 1);
		atr = ts_state_at(state, nstate, 2);
	}
	for (int i = 0; i < m; i++)
		out[i] = NAN;
	if (m == 0)
	{
		new_state[0] = (double) count;
		new_state[1] = prev_close;
		new_state[2] = atr;
		return;
	}
	first = count == 0 ? 2 : 1;	/* bar 0 only provides a close */
	t = period - count + 1;		/* chunk index (1-based) of bar n, the seed */

	/* chunk bar i (1-based): the close before it is prev_close for i = 1 */
#define ATR_TR(i) ts_true_range(h[(i) - 1], l[(i) - 1], (i) == 1 ? prev_close : c[(i) - 2])
	for (int64 i = first; i <= (t - 1 < m ? t - 1 : m); i++)
		atr = atr + ATR_TR(i);
	if (t >= first && t <= m)
	{
		atr = (atr + ATR_TR(t)) / period;
		out[t - 1] = atr;
	}
	for (int64 i = (t + 1 > first ? t + 1 : first); i <= m; i++)
	{
		atr = alpha * ATR_TR(i) + beta * atr;
		out[i - 1] = atr;
	}
#undef ATR_TR
	new_state[0] = (double) (count + m);
	new_state[1] = c[m - 1];
	new_state[2] = atr;
}

/* ta._atr_core: the kernel from the empty state after the leading rows with a NULL. */
static double *
atr_core(const double *h, const double *l, const double *c, int n, int period, int *start)
{
	double	   *out = ts_nan_buffer(n);
	double		state[3];

	*start = ts_first_valid(n, h, l, c, NULL);
	atr_step(NULL, 0, h + *start, l + *start, c + *start, n - *start, period, out + *start, state);
	return out;
}

PG_FUNCTION_INFO_V1(ta_native_atr_step);

/* ta_native.atr_step(state, high, low, close, timeperiod) -> (atr, state) */
Datum
ta_native_atr_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	high = ts_arg_series(fcinfo, 1);
	ts_series	low = ts_arg_series(fcinfo, 2);
	ts_series	close = ts_arg_series(fcinfo, 3);
	int			period = ts_arg_int(fcinfo, 4, "ta_native.atr_step", "p_timeperiod");
	int			m = close.n;	/* the PL/pgSQL's cardinality(p_close) */
	double	   *out = palloc(sizeof(double) * (m > 0 ? m : 1));
	double		new_state[3];
	Datum		values[2];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.atr_step: p_timeperiod must be >= 1")));
	atr_step(state.v, state.n, ts_padded(high, m), ts_padded(low, m), close.v, m, period, out, new_state);
	values[0] = ts_array(out, m);
	values[1] = ts_array(new_state, 3);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_atr);

/* ta_native.atr(high, low, close, timeperiod): ta.atr (ta._prep, checks, ta._atr_core) natively. */
Datum
ta_native_atr(PG_FUNCTION_ARGS)
{
	ts_series	high = ts_arg_prepped(fcinfo, 0, "ta.atr", "high");
	ts_series	low = ts_arg_prepped(fcinfo, 1, "ta.atr", "low");
	ts_series	close = ts_arg_prepped(fcinfo, 2, "ta.atr", "close");
	int			period = PG_GETARG_INT32(3);
	int			lengths[3] = {high.n, low.n, close.n};
	int			start;

	ts_check_period("ta.atr", "timeperiod", period, 1, 100000);
	ts_check_lengths("ta.atr", "high, low and close", 3, lengths);
	if (close.n == 0)
		PG_RETURN_DATUM(ts_array(NULL, 0));
	PG_RETURN_DATUM(ts_array(atr_core(high.v, low.v, close.v, close.n, period, &start), close.n));
}

PG_FUNCTION_INFO_V1(ta_native_natr);

/*
 * ta_native.natr(high, low, close, timeperiod): ta.natr natively: 100 * ATR / close from the
 * first ATR on (0 when close = 0); period 1 returns the raw true range, as TA-Lib.
 */
Datum
ta_native_natr(PG_FUNCTION_ARGS)
{
	ts_series	high = ts_arg_prepped(fcinfo, 0, "ta.natr", "high");
	ts_series	low = ts_arg_prepped(fcinfo, 1, "ta.natr", "low");
	ts_series	close = ts_arg_prepped(fcinfo, 2, "ta.natr", "close");
	int			period = PG_GETARG_INT32(3);
	int			lengths[3] = {high.n, low.n, close.n};
	int			n = close.n;
	int			start;
	double	   *out;

	ts_check_period("ta.natr", "timeperiod", period, 1, 100000);
	ts_check_lengths("ta.natr", "high, low and close", 3, lengths);
	if (n == 0)
		PG_RETURN_DATUM(ts_array(NULL, 0));
	out = atr_core(high.v, low.v, close.v, n, period, &start);
	if (period > 1)
	{
		/* the PL/pgSQL's ta._div branch for a tiny ATR is the plain C quotient */
		for (int64 i = (int64) start + period; i < n; i++)
			out[i] = close.v[i] == 0 ? 0.0 : (out[i] / close.v[i]) * 100;
	}
	PG_RETURN_DATUM(ts_array(out, n));
}
