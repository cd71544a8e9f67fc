/*
 * STOCH kernel: port of ta._stoch_step, ta.stoch and ta._stoch_fastk (db/ta/R__stoch.sql).
 */
#include "tsquant_ta.h"

/*
 * Raw %K from the window's extremes, as the PL/pgSQL CASE: 0 when ta._is_zero_scaled (a NaN
 * difference is not zero, so NaN extremes give NaN), else 100 (c - LL)/(HH - LL).
 */
static inline double
stoch_rawk(double close, double lowest, double highest)
{
	if (fabs(highest - lowest) <= 1e-14 * (fabs(highest) + fabs(lowest)))
		return 0.0;
	return (close - lowest) / ((highest - lowest) / 100.0);
}

/* State: 5 scalars, fastk-1 highs, fastk-1 lows, then the two ta._sma_step states. */
static int
stoch_state_len(int fastk, int slowk, int slowd)
{
	return 5 + 2 * (fastk - 1) + ts_sma_state_len(slowk) + ts_sma_state_len(slowd);
}

/*
 * ta._stoch_step over high/low/close[0..m) after the bars summarised by state (nstate 0 = empty):
 * writes the outputs past the lookback into slowk_out/slowd_out (which the caller fills with NaN)
 * and stoch_state_len() values into new_state. 1-based names (i, j, q, t) follow the PL/pgSQL.
 */
static void
stoch_step(const double *state, int nstate, const double *high, const double *low,
		   const double *close, int m, int fastk, int slowk, int slowd,
		   double *slowk_out, double *slowd_out, double *new_state)
{
	int			lf = fastk - 1;
	int			lk = slowk - 1;
	int			ld = slowd - 1;
	int			nk = ts_sma_state_len(slowk);
	int			nd = ts_sma_state_len(slowd);
	int64		count = 0;
	double		lowest = 0.0;
	int64		lowest_t = -1;
	double		highest = 0.0;
	int64		highest_t = -1;
	double	   *wh = palloc(sizeof(double) * ((Size) lf + m + 1));
	double	   *wl = palloc(sizeof(double) * ((Size) lf + m + 1));
	double	   *kstate = palloc(sizeof(double) * nk);
	double	   *dstate = palloc(sizeof(double) * nd);
	int64		base;
	int64		first;
	double	   *out;

	if (nstate > 0)
	{
		int			ks = 5 + 2 * lf;	/* 0-based start of the slow %K SMA state */
		int			ds = ks + nk;

		count = (int64) rint(state[0]);
		lowest = state[1];
		lowest_t = (int64) rint(state[2]);
		highest = state[3];
		highest_t = (int64) rint(state[4]);
		for (int i = 0; i < lf; i++)
		{
			wh[i] = 5 + i < nstate ? state[5 + i] : NAN;
			wl[i] = 5 + lf + i < nstate ? state[5 + lf + i] : NAN;
		}
		for (int i = 0; i < nk; i++)
			kstate[i] = ks + i < nstate ? state[ks + i] : NAN;
		for (int i = 0; i < nd; i++)
			dstate[i] = ds + i < nstate ? state[ds + i] : NAN;
	}
	else
	{
		/* the empty SMA states as ta._sma_step(null, '{}', period) returns them */
		for (int i = 0; i < lf; i++)
			wh[i] = wl[i] = NAN;
		kstate[0] = kstate[1] = 0.0;
		for (int i = 2; i < nk; i++)
			kstate[i] = NAN;
		dstate[0] = dstate[1] = 0.0;
		for (int i = 2; i < nd; i++)
			dstate[i] = NAN;
	}
	memcpy(wh + lf, high, sizeof(double) * m);
	memcpy(wl + lf, low, sizeof(double) * m);
	base = count - lf - 1;		/* bar t is at wh[t - base] (1-based) */
	first = (lf - count > 0 ? lf - count : 0) + 1;	/* first chunk bar with a raw %K */
	if (first <= m)
	{
		int			nraw = (int) (m - first + 1);
		double	   *raw = palloc(sizeof(double) * nraw);
		double	   *k;
		int64		past_f = count - lf > 0 ? count - lf : 0;	/* raw %K bars before the chunk */
		int64		kfirst;

		for (int64 i = first; i <= m; i++)
		{
			int64		t = count + i - 1;
			int64		j = lf + i;
			int64		trailing = t - lf;

			if (lowest_t < trailing)
			{
				lowest_t = trailing;
				lowest = wl[trailing - base - 1];
				for (int64 q = trailing - base + 1; q <= j; q++)
				{
					if (wl[q - 1] < lowest)
					{
						lowest_t = q + base;
						lowest = wl[q - 1];
					}
				}
			}
			else if (wl[j - 1] <= lowest)
			{
				lowest_t = t;
				lowest = wl[j - 1];
			}
			if (highest_t < trailing)
			{
				highest_t = trailing;
				highest = wh[trailing - base - 1];
				for (int64 q = trailing - base + 1; q <= j; q++)
				{
					if (wh[q - 1] > highest)
					{
						highest_t = q + base;
						highest = wh[q - 1];
					}
				}
			}
			else if (wh[j - 1] >= highest)
			{
				highest_t = t;
				highest = wh[j - 1];
			}
			raw[i - first] = stoch_rawk(close[i - 1], lowest, highest);
		}
		/* slow %K over the raw %K of this chunk; its first lk values overall are lookback */
		if (lk == 0)
			k = raw;			/* the slow %K SMA state stays as it was */
		else
		{
			double	   *ks = palloc(sizeof(double) * nk);

			k = palloc(sizeof(double) * nraw);
			ts_sma_step(kstate, nk, raw, nraw, slowk, k, ks);
			kstate = ks;
		}
		kfirst = (lk - past_f > 0 ? lk - past_f : 0) + 1;	/* first slow %K in k */
		if (kfirst <= nraw)
		{
			int			nkv = (int) (nraw - kfirst + 1);	/* slow %K values past their lookback */
			const double *kv = k + kfirst - 1;
			const double *d;
			int64		dfirst;
			int64		o;
			int64		past = count - lf - lk > 0 ? count - lf - lk : 0;	/* slow %K bars before */

			if (ld == 0)
				d = kv;
			else
			{
				double	   *dv = palloc(sizeof(double) * nkv);
				double	   *ds = palloc(sizeof(double) * nd);

				ts_sma_step(dstate, nd, kv, nkv, slowd, dv, ds);
				d = dv;
				dstate = ds;
			}
			dfirst = (ld - past > 0 ? ld - past : 0) + 1;	/* first slow %D in d */
			o = first + kfirst - 2; /* chunk index (1-based) of d[q] is o + q */
			for (int64 q = dfirst; q <= nkv; q++)
			{
				slowk_out[o + q - 1] = kv[q - 1];
				slowd_out[o + q - 1] = d[q - 1];
			}
		}
	}
	out = new_state;
	*out++ = (double) (count + m);
	*out++ = lowest;
	*out++ = (double) lowest_t;
	*out++ = highest;
	*out++ = (double) highest_t;
	memcpy(out, wh + m, sizeof(double) * lf);
	out += lf;
	memcpy(out, wl + m, sizeof(double) * lf);
	out += lf;
	memcpy(out, kstate, sizeof(double) * nk);
	out += nk;
	memcpy(out, dstate, sizeof(double) * nd);
	pfree(wh);
	pfree(wl);
}

PG_FUNCTION_INFO_V1(ta_native_stoch_step);

/* ta_native.stoch_step(state, high, low, close, fastk_period, slowk_period, slowd_period) -> (slowk, slowd, state) */
Datum
ta_native_stoch_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	high = ts_arg_series(fcinfo, 1);
	ts_series	low = ts_arg_series(fcinfo, 2);
	ts_series	close = ts_arg_series(fcinfo, 3);
	int			fastk = ts_arg_int(fcinfo, 4, "ta_native.stoch_step", "p_fastk_period");
	int			slowk = ts_arg_int(fcinfo, 5, "ta_native.stoch_step", "p_slowk_period");
	int			slowd = ts_arg_int(fcinfo, 6, "ta_native.stoch_step", "p_slowd_period");
	int			nstate;
	double	   *slowk_out;
	double	   *slowd_out;
	double	   *new_state;
	Datum		values[3];

	if (fastk < 1 || slowk < 1 || slowd < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ta_native.stoch_step: p_fastk_period, p_slowk_period and p_slowd_period must be >= 1")));
	ts_same_length("ta_native.stoch_step", high.n, close.n);
	ts_same_length("ta_native.stoch_step", low.n, close.n);
	nstate = stoch_state_len(fastk, slowk, slowd);
	slowk_out = ts_nan_buffer(close.n);
	slowd_out = ts_nan_buffer(close.n);
	new_state = palloc(sizeof(double) * nstate);
	stoch_step(state.v, state.n, high.v, low.v, close.v, close.n, fastk, slowk, slowd,
			   slowk_out, slowd_out, new_state);
	values[0] = ts_array(slowk_out, close.n);
	values[1] = ts_array(slowd_out, close.n);
	values[2] = ts_array(new_state, nstate);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 3));
}

PG_FUNCTION_INFO_V1(ta_native_stoch);

/* ta_native.stoch(high, low, close, fastk_period, slowk_period, slowd_period): ta.stoch natively. */
Datum
ta_native_stoch(PG_FUNCTION_ARGS)
{
	ts_series	high = ts_arg_prepped(fcinfo, 0, "ta.stoch", "high");
	ts_series	low = ts_arg_prepped(fcinfo, 1, "ta.stoch", "low");
	ts_series	close = ts_arg_prepped(fcinfo, 2, "ta.stoch", "close");
	int			fastk = PG_GETARG_INT32(3);
	int			slowk = PG_GETARG_INT32(4);
	int			slowd = PG_GETARG_INT32(5);
	int			lengths[3] = {high.n, low.n, close.n};
	int			n = close.n;
	int			start;
	double	   *slowk_out;
	double	   *slowd_out;
	double	   *state;
	Datum		values[2];

	ts_check_period("ta.stoch", "fastk_period", fastk, 1, 100000);
	ts_check_period("ta.stoch", "slowk_period", slowk, 1, 100000);
	ts_check_period("ta.stoch", "slowd_period", slowd, 1, 100000);
	ts_check_lengths("ta.stoch", "high, low and close", 3, lengths);
	if (n == 0)
	{
		values[0] = values[1] = ts_array(NULL, 0);
		PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
	}
	start = ts_first_valid(n, high.v, low.v, close.v, NULL);
	slowk_out = ts_nan_buffer(n);
	slowd_out = ts_nan_buffer(n);
	state = palloc(sizeof(double) * stoch_state_len(fastk, slowk, slowd));
	stoch_step(NULL, 0, high.v + start, low.v + start, close.v + start, n - start,
			   fastk, slowk, slowd, slowk_out + start, slowd_out + start, state);
	values[0] = ts_array(slowk_out, n);
	values[1] = ts_array(slowd_out, n);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

/* p[i] of a PL/pgSQL 1-based array: NULL (NaN) outside its bounds. */
static inline double
stoch_at(ts_series s, int64 i)
{
	return i >= 1 && i <= s.n ? s.v[i - 1] : NAN;
}

PG_FUNCTION_INFO_V1(ta_native_stoch_fastk);

/*
 * ta_native.stoch_fastk(high, low, close, kperiod, start): ta._stoch_fastk natively (used by
 * STOCHRSI). ta._stoch_fastk calls it only with kperiod >= 1 and start >= 1 (the PL/pgSQL
 * handles the rest); a NULL high or low reads as NULL values, a NULL close fails as there.
 */
Datum
ta_native_stoch_fastk(PG_FUNCTION_ARGS)
{
	ts_series	high = ts_arg_series(fcinfo, 0);
	ts_series	low = ts_arg_series(fcinfo, 1);
	ts_series	close = ts_arg_series(fcinfo, 2);
	int			kperiod;
	int			start;
	int			n = close.n;
	double	   *out;
	double		lowest = 0.0;
	double		highest = 0.0;
	int64		lowest_idx;
	int64		highest_idx;

	/* the PL/pgSQL's first statement, array_fill(null, array[cardinality(p_close)]), fails so */
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("dimension values cannot be null")));
	kperiod = ts_arg_int(fcinfo, 3, "ta_native.stoch_fastk", "p_kperiod");
	start = ts_arg_int(fcinfo, 4, "ta_native.stoch_fastk", "p_start");
	lowest_idx = (int64) start - 1;
	highest_idx = (int64) start - 1;
	if (kperiod < 1 || start < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ta_native.stoch_fastk: p_kperiod and p_start must be >= 1")));
	out = ts_nan_buffer(n);
	if ((int64) n - start < (int64) kperiod - 1)
		PG_RETURN_DATUM(ts_array(out, n));
	for (int64 today = (int64) start + kperiod - 1; today <= n; today++)
	{
		int64		trailing = today - kperiod + 1;

		if (lowest_idx < trailing)
		{
			lowest_idx = trailing;
			lowest = stoch_at(low, trailing);
			for (int64 j = trailing + 1; j <= today; j++)
			{
				if (stoch_at(low, j) < lowest)
				{
					lowest_idx = j;
					lowest = stoch_at(low, j);
				}
			}
		}
		else if (stoch_at(low, today) <= lowest)
		{
			lowest_idx = today;
			lowest = stoch_at(low, today);
		}
		if (highest_idx < trailing)
		{
			highest_idx = trailing;
			highest = stoch_at(high, trailing);
			for (int64 j = trailing + 1; j <= today; j++)
			{
				if (stoch_at(high, j) > highest)
				{
					highest_idx = j;
					highest = stoch_at(high, j);
				}
			}
		}
		else if (stoch_at(high, today) >= highest)
		{
			highest_idx = today;
			highest = stoch_at(high, today);
		}
		out[today - 1] = stoch_rawk(close.v[today - 1], lowest, highest);
	}
	PG_RETURN_DATUM(ts_array(out, n));
}
