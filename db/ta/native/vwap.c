/*
 * VWAP kernel: port of ta._vwap_step and ta.vwap (db/ta/R__vwap.sql).
 *
 * A bar counts when its typical price and volume are finite: `abs(x) < 'Infinity'` is false for
 * NULL, NaN (PostgreSQL orders NaN above infinity) and +-infinity, as fabs(x) < INFINITY is in C,
 * so the inputs need no NULL flags. The sums only ever get finite terms; the arithmetic uses
 * PostgreSQL's float8 operators (overflow and underflow raise as in PL/pgSQL). The state alone
 * may hold a NaN that is not a NULL (a caller's), so its values keep explicit NULL flags.
 */
#include "tsquant_ta.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/memutils.h"

/* A value of the state with its SQL NULL flag. */
typedef struct
{
	double		v;
	bool		isnull;
} vwap_value;

/* p_state[i] (0-based) with its NULL flag: NULL outside the array, as in PL/pgSQL. */
static vwap_value
vwap_state_value(const ts_series *s, int i)
{
	vwap_value	r = {NAN, true};

	if (i < s->n && !(s->isnull && s->isnull[i]))
	{
		r.v = s->v[i];
		r.isnull = false;
	}
	return r;
}

/*
 * ta._vwap_step from st[4] (count, sum of TP*V, sum of V, last VWAP; has_state false = empty)
 * over m = close->n bars: out/outnull get m values, st is updated to the new state.
 */
static void
vwap_step(vwap_value *st, bool has_state, const ts_series *high, const ts_series *low,
		  const ts_series *close, const ts_series *volume, double *out, bool *outnull)
{
	int			m = close->n;
	int64		count = 0;
	vwap_value	sum_pv = {0.0, false};
	vwap_value	sum_v = {0.0, false};
	vwap_value	vwap = {0.0, false};

	if (has_state)
	{
		/* p_state[1]::bigint: NULL stays NULL; rint and the range check of PostgreSQL's cast */
		if (!st[0].isnull)
		{
			double		c = rint(st[0].v);

			if (isnan(c) || !FLOAT8_FITS_IN_INT64(c))
				ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
			count = (int64) c;
		}
		sum_pv = st[1];
		sum_v = st[2];
		vwap = st[3];
	}
	else
		st[0].isnull = false;
	for (int i = 0; i < m; i++)
	{
		/* (h + l + c) / 3.0 with NULL as NaN: NaN never raises in float8_pl/float8_div */
		double		tp = float8_div(float8_pl(float8_pl(ts_state_at(high->v, high->n, i), ts_state_at(low->v, low->n, i)), close->v[i]), 3.0);
		double		v = ts_state_at(volume->v, volume->n, i);

		if (fabs(tp) < INFINITY && fabs(v) < INFINITY)
		{
			/* the product is evaluated (and may raise) even when the sum is NULL */
			double		pv = float8_mul(tp, v);

			if (!sum_pv.isnull)
				sum_pv.v = float8_pl(sum_pv.v, pv);
			if (!sum_v.isnull)
				sum_v.v = float8_pl(sum_v.v, v);
		}
		/* v_sum_v > 0: PostgreSQL's order puts NaN above 0; a NULL is false */
		if (!sum_v.isnull && float8_gt(sum_v.v, 0.0))
		{
			vwap.isnull = sum_pv.isnull;
			vwap.v = sum_pv.isnull ? NAN : float8_div(sum_pv.v, sum_v.v);
		}
		out[i] = vwap.v;
		outnull[i] = vwap.isnull;
	}
	/* (v_count + v_m): bigint + integer, which raises on overflow */
	if (!st[0].isnull && pg_add_s64_overflow(count, m, &count))
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
	st[0].v = st[0].isnull ? NAN : (double) count;
	st[1] = sum_pv;
	st[2] = sum_v;
	st[3] = vwap;
}

PG_FUNCTION_INFO_V1(ta_native_vwap_step);

/* ta_native.vwap_step(state, high, low, close, volume) -> (vwap, state) */
Datum
ta_native_vwap_step(PG_FUNCTION_ARGS)
{
	ts_series	high = ts_arg_series(fcinfo, 1);
	ts_series	low = ts_arg_series(fcinfo, 2);
	ts_series	close = ts_arg_series(fcinfo, 3);
	ts_series	volume = ts_arg_series(fcinfo, 4);
	vwap_value	st[4];
	bool		has_state = false;
	double	   *out = palloc(sizeof(double) * (close.n > 0 ? close.n : 1));
	bool	   *outnull = palloc(sizeof(bool) * (close.n > 0 ? close.n : 1));
	double		sv[4];
	bool		sn[4];
	Datum		values[2];

	if (!PG_ARGISNULL(0))
	{
		ts_series	state = ts_arg_series(fcinfo, 0);

		has_state = state.n > 0;
		for (int i = 0; i < 4; i++)
			st[i] = vwap_state_value(&state, i);
	}
	vwap_step(st, has_state, &high, &low, &close, &volume, out, outnull);
	/* array_fill(null, array[cardinality(NULL)]) in the PL/pgSQL kernel, after the state */
	if (PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("dimension values cannot be null")));
	for (int i = 0; i < 4; i++)
	{
		sv[i] = st[i].v;
		sn[i] = st[i].isnull;
	}
	values[0] = ts_array_flags(out, outnull, close.n);
	values[1] = ts_array_flags(sv, sn, 4);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_vwap);

/*
 * ta_native.vwap(high, low, close, volume): ta.vwap (ta._prep, ta._check_lengths,
 * ta._first_valid) natively.
 */
Datum
ta_native_vwap(PG_FUNCTION_ARGS)
{
	ts_series	h = ts_arg_prepped(fcinfo, 0, "ta.vwap", "high");
	ts_series	l = ts_arg_prepped(fcinfo, 1, "ta.vwap", "low");
	ts_series	c = ts_arg_prepped(fcinfo, 2, "ta.vwap", "close");
	ts_series	v = ts_arg_prepped(fcinfo, 3, "ta.vwap", "volume");
	int			lengths[4] = {h.n, l.n, c.n, v.n};
	int			start;
	vwap_value	st[4];
	double	   *out;
	bool	   *outnull;

	ts_check_lengths("ta.vwap", "high, low, close and volume", 4, lengths);
	if (c.n == 0)
		PG_RETURN_DATUM(ts_array(NULL, 0));
	start = ts_first_valid(c.n, h.v, l.v, c.v, v.v);
	out = palloc(sizeof(double) * c.n);
	outnull = palloc(sizeof(bool) * c.n);
	for (int i = 0; i < start; i++)
	{
		out[i] = NAN;
		outnull[i] = true;
	}
	h.v += start;
	h.n -= start;
	l.v += start;
	l.n -= start;
	c.v += start;
	c.n -= start;
	v.v += start;
	v.n -= start;
	vwap_step(st, false, &h, &l, &c, &v, out + start, outnull + start);
	PG_RETURN_DATUM(ts_array_flags(out, outnull, lengths[2]));
}
