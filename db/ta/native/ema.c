/*
 * EMA kernel: port of ta._ema_step (db/ta/R__ema.sql).
 */
#include "tsquant_ta.h"

void
ts_ema_step(const double *state, int nstate, const double *x, int m, int period,
			double *out, double *new_state)
{
	double		k = 2.0 / (period + 1);
	int64		count = 0;
	double		prev = 0.0;
	int64		g;

	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		prev = state[1];
	}
	if (period == 1)
	{
		memcpy(out, x, sizeof(double) * m);
		new_state[0] = (double) (count + m);
		new_state[1] = 0.0;
		return;
	}
	for (int i = 0; i < m; i++)
		out[i] = NAN;
	g = period - count;			/* chunk index (1-based) of the seed bar, bar n-1 */
	for (int64 i = 1; i <= (g - 1 < m ? g - 1 : m); i++)
		prev = prev + x[i - 1];
	if (g >= 1 && g <= m)
	{
		prev = (prev + x[g - 1]) / period;
		out[g - 1] = prev;
	}
	for (int64 i = (g + 1 > 1 ? g + 1 : 1); i <= m; i++)
	{
		prev = (x[i - 1] - prev) * k + prev;
		out[i - 1] = prev;
	}
	new_state[0] = (double) (count + m);
	new_state[1] = prev;
}

PG_FUNCTION_INFO_V1(ta_native_ema_step);

/* ta_native.ema_step(state, x, timeperiod) -> (ema, state) */
Datum
ta_native_ema_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	x = ts_arg_series(fcinfo, 1);
	int			period = ts_arg_int(fcinfo, 2, "ta_native.ema_step", "p_timeperiod");
	double	   *out = palloc(sizeof(double) * (x.n > 0 ? x.n : 1));
	double		new_state[2];
	Datum		values[2];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.ema_step: p_timeperiod must be >= 1")));
	ts_ema_step(state.v, state.n, x.v, x.n, period, out, new_state);
	values[0] = ts_array(out, x.n);
	values[1] = ts_array(new_state, 2);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_ema);

/* ta_native.ema(x, timeperiod): ta.ema (ta._prep, ta._check_period, ta._ema_core) natively. */
Datum
ta_native_ema(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(ts_period_public(fcinfo, "ta.ema", 1, ts_ema_step));
}
