/*
 * Directional movement kernels (PLUS_DI, MINUS_DI, ADX): port of ta._dmi_step, ta._dmi_core,
 * ta.plus_di, ta.minus_di and ta.adx (db/ta/R__dmi.sql).
 */
#include "tsquant_ta.h"

#include "utils/builtins.h"

typedef enum
{
	DMI_MINUS_DI,
	DMI_PLUS_DI,
	DMI_ADX
} dmi_output;

#define DMI_STATE_LEN 9

/*
 * Wilder's directional movement over the chunk h/l/c[0..m) after the bars summarised by state
 * (nstate = 0: none). out gets m values of the chosen output, new_state DMI_STATE_LEN:
 * [count, prev high, prev low, prev close, +DM, -DM, TR, DX sum, ADX]. A NULL comparison of the
 * PL/pgSQL is a false NaN comparison here; its ta._div branches for tiny sums are the plain C
 * quotients, so each CASE is one expression.
 */
static void
dmi_step(const double *state, int nstate, const double *h, const double *l, const double *c, int m,
		 int period, dmi_output output, double *out, double *new_state)
{
	double		p = (double) period;
	int64		count = 0;
	double		prev_high = NAN;
	double		prev_low = NAN;
	double		prev_close = NAN;
	double		plus_dm = 0.0;
	double		minus_dm = 0.0;
	double		tr = 0.0;
	double		sum_dx = 0.0;
	double		adx = NAN;
	int64		first_adx = 2 * (int64) period - 1;

	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		prev_high = ts_state_at(state, nstate, 1);
		prev_low = ts_state_at(state, nstate, 2);
		prev_close = ts_state_at(state, nstate, 3);
		plus_dm = ts_state_at(state, nstate, 4);
		minus_dm = ts_state_at(state, nstate, 5);
		tr = ts_state_at(state, nstate, 6);
		sum_dx = ts_state_at(state, nstate, 7);
		adx = ts_state_at(state, nstate, 8);
	}
	for (int i = 0; i < m; i++)
	{
		int64		t = count + i;
		double		high = h[i];
		double		low = l[i];
		double		v = NAN;

		if (t > 0)
		{
			double		up = high - prev_high;
			double		down = prev_low - low;

			if (period == 1)
			{
				tr = ts_true_range(high, low, prev_close);
				if (output == DMI_PLUS_DI)
					v = up > 0 && up > down ? (tr <= 0 ? 0.0 : up / tr) : 0.0;
				else
					v = down > 0 && down > up ? (tr <= 0 ? 0.0 : down / tr) : 0.0;
			}
			else if (t < period)
			{
				plus_dm = plus_dm + (up > 0 && up - down > 0 ? up : 0.0);
				minus_dm = minus_dm + (down > 0 && down - up > 0 ? down : 0.0);
				tr = tr + ts_true_range(high, low, prev_close);
			}
			else
			{
				plus_dm = plus_dm - plus_dm / p + (up > 0 && up - down > 0 ? up : 0.0);
				minus_dm = minus_dm - minus_dm / p + (down > 0 && down - up > 0 ? down : 0.0);
				tr = tr - tr / p + ts_true_range(high, low, prev_close);
				if (output == DMI_ADX)
				{
					if (tr > 0)
					{
						double		plus = 100.0 * (plus_dm / tr);
						double		minus = 100.0 * (minus_dm / tr);

						if (fabs(minus + plus) >= 1e-14)
						{
							double		dx = 100.0 * (fabs(minus - plus) / (minus + plus));

							if (t <= first_adx)
								sum_dx = sum_dx + dx;
							else
								adx = adx - (adx - dx) / p;
						}
					}
					if (t == first_adx)
						adx = sum_dx / p;
					v = adx;	/* NaN (NULL) until the first ADX */
				}
				else if (output == DMI_PLUS_DI)
					v = tr > 0 ? 100.0 * (plus_dm / tr) : 0.0;
				else
					v = tr > 0 ? 100.0 * (minus_dm / tr) : 0.0;
			}
		}
		out[i] = v;
		prev_high = high;
		prev_low = low;
		prev_close = c[i];
	}
	new_state[0] = (double) (count + m);
	new_state[1] = prev_high;
	new_state[2] = prev_low;
	new_state[3] = prev_close;
	new_state[4] = plus_dm;
	new_state[5] = minus_dm;
	new_state[6] = tr;
	new_state[7] = sum_dx;
	new_state[8] = adx;
}

PG_FUNCTION_INFO_V1(ta_native_dmi_step);

/* ta_native.dmi_step(state, high, low, close, timeperiod, output) -> (vals, state) */
Datum
ta_native_dmi_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	high = ts_arg_series(fcinfo, 1);
	ts_series	low = ts_arg_series(fcinfo, 2);
	ts_series	close = ts_arg_series(fcinfo, 3);
	int			period = ts_arg_int(fcinfo, 4, "ta_native.dmi_step", "p_timeperiod");
	int			m = close.n;	/* the PL/pgSQL's cardinality(p_close) */
	dmi_output	output = DMI_MINUS_DI;	/* the PL/pgSQL's else branches, NULL p_output included */
	double	   *out = palloc(sizeof(double) * (m > 0 ? m : 1));
	double		new_state[DMI_STATE_LEN];
	Datum		values[2];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.dmi_step: p_timeperiod must be >= 1")));
	if (!PG_ARGISNULL(5))
	{
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(5));

		if (strcmp(name, "adx") == 0)
			output = DMI_ADX;
		else if (strcmp(name, "plus_di") == 0)
			output = DMI_PLUS_DI;
	}
	dmi_step(state.v, state.n, ts_padded(high, m), ts_padded(low, m), close.v, m, period, output,
			 out, new_state);
	values[0] = ts_array(out, m);
	values[1] = ts_array(new_state, DMI_STATE_LEN);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

/*
 * ta.plus_di, ta.minus_di and ta.adx: ta._prep, ta._check_period (min_period), ta._check_lengths,
 * then ta._dmi_core (the kernel from the empty state after the leading rows with a NULL).
 */
static Datum
dmi_public(FunctionCallInfo fcinfo, const char *func, int min_period, dmi_output output)
{
	ts_series	high = ts_arg_prepped(fcinfo, 0, func, "high");
	ts_series	low = ts_arg_prepped(fcinfo, 1, func, "low");
	ts_series	close = ts_arg_prepped(fcinfo, 2, func, "close");
	int			period = PG_GETARG_INT32(3);
	int			lengths[3] = {high.n, low.n, close.n};
	int			n = close.n;
	int			start;
	double	   *out;
	double		state[DMI_STATE_LEN];

	ts_check_period(func, "timeperiod", period, min_period, 100000);
	ts_check_lengths(func, "high, low and close", 3, lengths);
	if (n == 0)
		return ts_array(NULL, 0);
	start = ts_first_valid(n, high.v, low.v, close.v, NULL);
	out = ts_nan_buffer(n);
	dmi_step(NULL, 0, high.v + start, low.v + start, close.v + start, n - start, period, output,
			 out + start, state);
	return ts_array(out, n);
}

PG_FUNCTION_INFO_V1(ta_native_plus_di);

/* ta_native.plus_di(high, low, close, timeperiod): ta.plus_di natively. */
Datum
ta_native_plus_di(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(dmi_public(fcinfo, "ta.plus_di", 1, DMI_PLUS_DI));
}

PG_FUNCTION_INFO_V1(ta_native_minus_di);

/* ta_native.minus_di(high, low, close, timeperiod): ta.minus_di natively. */
Datum
ta_native_minus_di(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(dmi_public(fcinfo, "ta.minus_di", 1, DMI_MINUS_DI));
}

PG_FUNCTION_INFO_V1(ta_native_adx);

/* ta_native.adx(high, low, close, timeperiod): ta.adx natively. */
Datum
ta_native_adx(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(dmi_public(fcinfo, "ta.adx", 2, DMI_ADX));
}
