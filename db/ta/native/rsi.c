/*
 * RSI kernel: port of ta._rsi_step and ta.rsi (db/ta/R__rsi.sql).
 */
#include "tsquant_ta.h"

/*
 * Wilder RSI over the chunk x[0..m) after the bars summarised by state (nstate = 0: none).
 * out gets m values, new_state 4: [count, previous input, average gain, average loss].
 * A NaN change (NULL in the PL/pgSQL) fails "diff > 0": no gain and a NaN loss, as there.
 * The PL/pgSQL's ta._mul / ta._div branches for tiny averages are plain C products and
 * quotients, so each CASE is one expression here.
 */
static void
rsi_step(const double *state, int nstate, const double *x, int m, int period,
		 double *out, double *new_state)
{
	double		inv = 1.0 / period;
	double		keep = (double) (period - 1);
	int64		count = 0;
	double		prev = NAN;
	double		gain = 0.0;
	double		loss = 0.0;
	int64		first;
	int64		t;

	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		prev = ts_state_at(state, nstate, 1);
		gain = ts_state_at(state, nstate, 2);
		loss = ts_state_at(state, nstate, 3);
	}
	for (int i = 0; i < m; i++)
		out[i] = NAN;
	if (m == 0)
	{
		new_state[0] = (double) count;
		new_state[1] = prev;
		new_state[2] = gain;
		new_state[3] = loss;
		return;
	}
	first = count == 0 ? 2 : 1;	/* bar 0 has no change */
	t = period - count + 1;		/* chunk index (1-based) of bar n, the seed */

	/* chunk bar i (1-based): x[i - 1] minus the input before it (prev for i = 1) */
#define RSI_DIFF(i) (x[(i) - 1] - ((i) == 1 ? prev : x[(i) - 2]))
	for (int64 i = first; i <= (t < m ? t : m); i++)
	{
		double		diff = RSI_DIFF(i);

		gain = gain + (diff > 0 ? diff : 0.0);
		loss = loss + (diff > 0 ? 0.0 : -diff);
	}
	if (t >= 1 && t <= m)
	{
		gain = gain * inv;
		loss = loss * inv;
		out[t - 1] = gain + loss > 0 ? 100 * (gain / (gain + loss)) : 0.0;
	}
	for (int64 i = (t + 1 > first ? t + 1 : first); i <= m; i++)
	{
		double		diff = RSI_DIFF(i);

		gain = (gain * keep + (diff > 0 ? diff : 0.0)) * inv;
		loss = (loss * keep + (diff > 0 ? 0.0 : -diff)) * inv;
		out[i - 1] = gain + loss > 0 ? 100 * (gain / (gain + loss)) : 0.0;
	}
#undef RSI_DIFF
	new_state[0] = (double) (count + m);
	new_state[1] = x[m - 1];
	new_state[2] = gain;
	new_state[3] = loss;
}

PG_FUNCTION_INFO_V1(ta_native_rsi_step);

/* ta_native.rsi_step(state, x, timeperiod) -> (rsi, state) */
Datum
ta_native_rsi_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	x = ts_arg_series(fcinfo, 1);
	int			period = ts_arg_int(fcinfo, 2, "ta_native.rsi_step", "p_timeperiod");
	double	   *out = palloc(sizeof(double) * (x.n > 0 ? x.n : 1));
	double		new_state[4];
	Datum		values[2];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.rsi_step: p_timeperiod must be >= 1")));
	rsi_step(state.v, state.n, x.v, x.n, period, out, new_state);
	values[0] = ts_array(out, x.n);
	values[1] = ts_array(new_state, 4);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_rsi);

/* ta_native.rsi(x, timeperiod): ta.rsi (ta._prep, ta._check_period, ta._rsi_step) natively. */
Datum
ta_native_rsi(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(ts_period_public(fcinfo, "ta.rsi", 2, rsi_step));
}
