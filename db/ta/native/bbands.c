/*
 * BBANDS kernel: port of ta._bbands_step and ta.bbands (db/ta/R__bbands.sql).
 */
#include "tsquant_ta.h"

#include "utils/float.h"

/* State: 8 scalars, then the last period-1 inputs. */
#define BB_HEAD 8

static int
bbands_state_len(int period)
{
	return BB_HEAD + period - 1;
}

/*
 * ta._bbands_step over x[0..m) after the bars summarised by state (nstate 0 = empty):
 * writes the outputs of the bars past the lookback into upper/middle/lower (which the caller
 * fills with NaN) and bbands_state_len(period) values into new_state.
 */
static void
bbands_step(const double *state, int nstate, const double *x, int m, int period,
			double nbdevup, double nbdevdn,
			double *upper, double *middle, double *lower, double *new_state)
{
	int			l = period - 1;
	double		inv = 1.0 / period;
	int64		count = 0;
	double		ma_total = 0.0;
	double		total1 = 0.0;
	double		total2 = 0.0;
	double		shift = NAN;	/* declared without initialiser: NULL */
	double		old = 0.0;
	double		old_dev = 0.0;
	double		reseed = 32 * period;	/* an integer; a double so that a NULL stays NULL */
	double	   *w = palloc(sizeof(double) * ((Size) l + m + 1));

	/* w (0-based) = the last l inputs before the chunk (NaN-padded while fewer), then the chunk */
	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		ma_total = 1 < nstate ? state[1] : NAN;
		total1 = 2 < nstate ? state[2] : NAN;
		total2 = 3 < nstate ? state[3] : NAN;
		shift = 4 < nstate ? state[4] : NAN;
		old = 5 < nstate ? state[5] : NAN;
		old_dev = 6 < nstate ? state[6] : NAN;
		reseed = 7 < nstate ? rint(state[7]) : NAN;	/* ::integer rounds */
		for (int i = 0; i < l; i++)
			w[i] = BB_HEAD + i < nstate ? state[BB_HEAD + i] : NAN;
	}
	else
	{
		for (int i = 0; i < l; i++)
			w[i] = NAN;
	}
	memcpy(w + l, x, sizeof(double) * m);
	for (int i = 0; i < m; i++)
	{
		int64		t = count + i;
		int			j = l + i;	/* w index of this bar */
		double		nw = w[j];
		double		dev;
		double		variance;
		double		mid;

		if (t == 0)
			shift = nw;
		if (t < l)
		{
			ma_total = ma_total + nw;
			total1 = total1 + (nw - shift);
			total2 = total2 + (nw - shift) * (nw - shift);
			continue;
		}
		dev = nw - shift;
		ma_total = ma_total - old + nw;
		total1 = total1 - old_dev + dev;
		total2 = total2 - old_dev * old_dev + dev * dev;
		variance = total2 * inv - (total1 * inv) * (total1 * inv);
		mid = ma_total / period;
		old = w[j - l];
		old_dev = old - shift;
		reseed = reseed - 1;
		/* SQL OR of possibly NULL terms fires only when one is true: as C's || on NaN compares */
		if (variance < 0.000001 * ((total2 - old_dev * old_dev) * inv)
			|| old_dev * old_dev > 1000000.0 * (total2 - old_dev * old_dev)
			|| reseed <= 0)
		{
			/* re-anchor the variance on the window's own mean */
			reseed = 32 * period;
			shift = 0.0;
			for (int k = j - l; k <= j; k++)
				shift = shift + w[k];
			shift = shift * inv;
			total1 = 0.0;
			total2 = 0.0;
			for (int k = j - l; k <= j; k++)
			{
				total1 = total1 + (w[k] - shift);
				total2 = total2 + (w[k] - shift) * (w[k] - shift);
			}
			variance = total2 * inv - (total1 * inv) * (total1 * inv);
			if (variance < 0.000000000001 * (total2 * inv))
				variance = 0.0;
			old_dev = old - shift;
		}
		/* CASE: 0 for a zero variance, sqrt when positive, NULL otherwise (NULL or negative) */
		if (variance == 0)
			dev = 0.0;
		else if (variance > 0)
			dev = sqrt(variance);
		else
			dev = NAN;
		middle[i] = mid;
		upper[i] = mid + dev * nbdevup;
		lower[i] = mid - dev * nbdevdn;
	}
	new_state[0] = (double) (count + m);
	new_state[1] = ma_total;
	new_state[2] = total1;
	new_state[3] = total2;
	new_state[4] = shift;
	new_state[5] = old;
	new_state[6] = old_dev;
	new_state[7] = reseed;
	for (int i = 0; i < l; i++)
		new_state[BB_HEAD + i] = w[m + i];
	pfree(w);
}

PG_FUNCTION_INFO_V1(ta_native_bbands_step);

/* ta_native.bbands_step(state, x, timeperiod, nbdevup, nbdevdn) -> (upperband, middleband, lowerband, state) */
Datum
ta_native_bbands_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	x = ts_arg_series(fcinfo, 1);
	int			period = ts_arg_int(fcinfo, 2, "ta_native.bbands_step", "p_timeperiod");
	double		nbdevup = ts_arg_float8(fcinfo, 3, "ta_native.bbands_step", "p_nbdevup");
	double		nbdevdn = ts_arg_float8(fcinfo, 4, "ta_native.bbands_step", "p_nbdevdn");
	int			nstate;
	double	   *upper;
	double	   *middle;
	double	   *lower;
	double	   *new_state;
	Datum		values[4];

	if (period < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ta_native.bbands_step: p_timeperiod must be >= 1")));
	nstate = bbands_state_len(period);
	upper = ts_nan_buffer(x.n);
	middle = ts_nan_buffer(x.n);
	lower = ts_nan_buffer(x.n);
	new_state = palloc(sizeof(double) * nstate);
	bbands_step(state.v, state.n, x.v, x.n, period, nbdevup, nbdevdn, upper, middle, lower, new_state);
	values[0] = ts_array(upper, x.n);
	values[1] = ts_array(middle, x.n);
	values[2] = ts_array(lower, x.n);
	values[3] = ts_array(new_state, nstate);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 4));
}

/* The wrapper's nbdev range check; NaN is outside (PostgreSQL orders NaN above every number). */
static void
bbands_check_nbdev(const char *arg, double value)
{
	if (isnan(value) || value < -3e37 || value > 3e37)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ta.bbands: %s must be between -3e+37 and 3e+37 (got %s)", arg,
							   float8out_internal(value))));
}

PG_FUNCTION_INFO_V1(ta_native_bbands);

/* ta_native.bbands(x, timeperiod, nbdevup, nbdevdn): ta.bbands natively. */
Datum
ta_native_bbands(PG_FUNCTION_ARGS)
{
	ts_series	x = ts_arg_prepped(fcinfo, 0, "ta.bbands", "x");
	int			period = PG_GETARG_INT32(1);
	double		nbdevup = PG_GETARG_FLOAT8(2);
	double		nbdevdn = PG_GETARG_FLOAT8(3);
	int			start;
	double	   *upper;
	double	   *middle;
	double	   *lower;
	double	   *state;
	Datum		values[3];

	ts_check_period("ta.bbands", "timeperiod", period, 2, 100000);
	bbands_check_nbdev("nbdevup", nbdevup);
	bbands_check_nbdev("nbdevdn", nbdevdn);
	if (x.n == 0)
	{
		values[0] = values[1] = values[2] = ts_array(NULL, 0);
		PG_RETURN_DATUM(ts_record(fcinfo, values, 3));
	}
	start = ts_first_valid(x.n, x.v, NULL, NULL, NULL);
	upper = ts_nan_buffer(x.n);
	middle = ts_nan_buffer(x.n);
	lower = ts_nan_buffer(x.n);
	state = palloc(sizeof(double) * bbands_state_len(period));
	bbands_step(NULL, 0, x.v + start, x.n - start, period, nbdevup, nbdevdn,
				upper + start, middle + start, lower + start, state);
	values[0] = ts_array(upper, x.n);
	values[1] = ts_array(middle, x.n);
	values[2] = ts_array(lower, x.n);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 3));
}
