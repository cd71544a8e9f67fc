/*
 * SMA kernel: port of ta._sma_step (db/ta/R__sma.sql).
 */
#include "tsquant_ta.h"

int
ts_sma_state_len(int period)
{
	return 2 + period - 1;
}

void
ts_sma_step(const double *state, int nstate, const double *x, int m, int period,
			double *out, double *new_state)
{
	int			l = period - 1;
	int64		count = 0;
	double		total = 0.0;
	double	   *w = palloc(sizeof(double) * ((Size) l + m + 1));
	int64		j;

	/* w = the last l inputs before the chunk (NaN-padded while fewer), then the chunk */
	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		total = state[1];
		for (int i = 0; i < l; i++)
			w[i] = 2 + i < nstate ? state[2 + i] : NAN;
	}
	else
	{
		for (int i = 0; i < l; i++)
			w[i] = NAN;
	}
	memcpy(w + l, x, sizeof(double) * m);
	for (int i = 0; i < m; i++)
		out[i] = NAN;
	j = l - count > 0 ? l - count : 0;	/* chunk bars still inside the lookback */
	for (int64 i = 1; i <= (j < m ? j : m); i++)
		total = total + w[l + i - 1];
	for (int64 i = j + 1; i <= m; i++)
	{
		total = total + w[l + i - 1];
		out[i - 1] = total / period;
		total = total - w[i - 1];
	}
	new_state[0] = (double) (count + m);
	new_state[1] = total;
	for (int i = 0; i < l; i++)
		new_state[2 + i] = w[m + i];
	pfree(w);
}

PG_FUNCTION_INFO_V1(ta_native_sma_step);

/* ta_native.sma_step(state, x, timeperiod) -> (sma, state) */
Datum
ta_native_sma_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	x = ts_arg_series(fcinfo, 1);
	int			period = ts_arg_int(fcinfo, 2, "ta_native.sma_step", "p_timeperiod");
	int			nstate = ts_sma_state_len(period);
	double	   *out = palloc(sizeof(double) * (x.n > 0 ? x.n : 1));
	double	   *new_state = palloc(sizeof(double) * nstate);
	Datum		values[2];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.sma_step: p_timeperiod must be >= 1")));
	ts_sma_step(state.v, state.n, x.v, x.n, period, out, new_state);
	values[0] = ts_array(out, x.n);
	values[1] = ts_array(new_state, nstate);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_sma);

/* ta_native.sma(x, timeperiod): ta.sma (ta._prep, ta._check_period, ta._sma_core) natively. */
Datum
ta_native_sma(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(ts_period_public(fcinfo, "ta.sma", 1, ts_sma_step));
}
