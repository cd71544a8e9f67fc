/*
 * OBV kernel: port of ta._obv_step and ta.obv (db/ta/R__obv.sql).
 *
 * Unlike most kernels, OBV can make a real NaN that PL/pgSQL keeps apart from NULL: an infinite
 * volume added to an OBV of the opposite infinity (ta._prep keeps infinities) gives 'NaN', which
 * the output and the state carry as NaN, not NULL. So this file tracks SQL NULL with explicit
 * flags (NaN is just a value) and compares closes with PostgreSQL's float8 order (NaN above all
 * numbers, equal to NaN) and adds with PostgreSQL's float8 operator (overflow raises).
 */
#include "tsquant_ta.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/memutils.h"

/* A float8[] with its SQL NULLs: isnull NULL = no NULL, unless nan_is_null (prepped input). */
typedef struct
{
	const double *v;
	const bool *isnull;
	bool		nan_is_null;
	int			n;
} obv_series;

/* p[i] in PL/pgSQL terms: outside the array (0-based i >= n) is NULL. */
static inline bool
obv_null(const obv_series *s, int i)
{
	if (i >= s->n)
		return true;
	if (s->isnull)
		return s->isnull[i];
	return s->nan_is_null && isnan(s->v[i]);
}

/* A float8[] argument with its NULL flags (NaN stays a value); a NULL array: n = 0. */
static obv_series
obv_arg(FunctionCallInfo fcinfo, int argno)
{
	ts_series	s = ts_arg_series(fcinfo, argno);

	return (obv_series) {s.v, s.isnull, false, s.n};
}

/*
 * ta._obv_step from state (3 values and flags, or nstate = 0) over close/volume (m = close->n
 * bars): out/outnull get m values, new_state/new_null 3.
 */
static void
obv_step(const obv_series *state, const obv_series *close, const obv_series *volume,
		 double *out, bool *outnull, double *new_state, bool *new_null)
{
	int			m = close->n;
	int64		count = 0;
	bool		count_null = false;
	double		prev = NAN;
	bool		prev_null = true;
	double		obv = NAN;
	bool		obv_null_ = true;
	int			first = 0;

	if (state->n > 0)
	{
		/* p_state[1]::bigint: NULL stays NULL; rint and the range check of PostgreSQL's cast */
		count_null = obv_null(state, 0);
		if (!count_null)
		{
			double		c = rint(state->v[0]);

			if (isnan(c) || !FLOAT8_FITS_IN_INT64(c))
				ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
			count = (int64) c;
		}
		prev_null = obv_null(state, 1);
		prev = prev_null ? NAN : state->v[1];
		obv_null_ = obv_null(state, 2);
		obv = obv_null_ ? NAN : state->v[2];
	}
	if (m > 0)
	{
		if (!count_null && count == 0)
		{
			obv_null_ = obv_null(volume, 0);
			obv = obv_null_ ? NAN : volume->v[0];
			out[0] = obv;
			outnull[0] = obv_null_;
			first = 1;
		}
		for (int i = first; i < m; i++)
		{
			/* the close before bar i: the state's for the chunk's first bar */
			double		pc = i == 0 ? prev : close->v[i - 1];
			bool		pc_null = i == 0 ? prev_null : obv_null(close, i - 1);
			double		delta = 0.0;
			bool		delta_null = false;

			/* CASE with a NULL close: both WHENs NULL, ELSE 0 */
			if (!obv_null(close, i) && !pc_null)
			{
				if (float8_gt(close->v[i], pc))
				{
					delta_null = obv_null(volume, i);
					delta = delta_null ? NAN : volume->v[i];
				}
				else if (float8_lt(close->v[i], pc))
				{
					delta_null = obv_null(volume, i);
					delta = delta_null ? NAN : -volume->v[i];
				}
			}
			obv_null_ = obv_null_ || delta_null;
			obv = obv_null_ ? NAN : float8_pl(obv, delta);
			out[i] = obv;
			outnull[i] = obv_null_;
		}
		prev_null = obv_null(close, m - 1);
		prev = prev_null ? NAN : close->v[m - 1];
		/* (v_count + v_m): bigint + integer, which raises on overflow */
		if (!count_null && pg_add_s64_overflow(count, m, &count))
			ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
	}
	new_state[0] = count_null ? NAN : (double) count;
	new_null[0] = count_null;
	new_state[1] = prev;
	new_null[1] = prev_null;
	new_state[2] = obv;
	new_null[2] = obv_null_;
}

PG_FUNCTION_INFO_V1(ta_native_obv_step);

/* ta_native.obv_step(state, close, volume) -> (obv, state) */
Datum
ta_native_obv_step(PG_FUNCTION_ARGS)
{
	obv_series	state = obv_arg(fcinfo, 0);
	obv_series	close = obv_arg(fcinfo, 1);
	obv_series	volume = obv_arg(fcinfo, 2);
	double	   *out = palloc(sizeof(double) * (close.n > 0 ? close.n : 1));
	bool	   *outnull = palloc(sizeof(bool) * (close.n > 0 ? close.n : 1));
	double		new_state[3];
	bool		new_null[3];
	Datum		values[2];

	obv_step(&state, &close, &volume, out, outnull, new_state, new_null);
	/* array_fill(null, array[cardinality(NULL)]) in the PL/pgSQL kernel, after the state */
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("dimension values cannot be null")));
	values[0] = ts_array_flags(out, outnull, close.n);
	values[1] = ts_array_flags(new_state, new_null, 3);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 2));
}

PG_FUNCTION_INFO_V1(ta_native_obv);

/* ta_native.obv(close, volume): ta.obv (ta._prep, ta._check_lengths, ta._first_valid) natively. */
Datum
ta_native_obv(PG_FUNCTION_ARGS)
{
	ts_series	c = ts_arg_prepped(fcinfo, 0, "ta.obv", "close");
	ts_series	v = ts_arg_prepped(fcinfo, 1, "ta.obv", "volume");
	int			lengths[2] = {c.n, v.n};
	int			start;
	obv_series	empty = {NULL, NULL, false, 0};
	obv_series	close;
	obv_series	volume;
	double	   *out;
	bool	   *outnull;
	double		new_state[3];
	bool		new_null[3];

	ts_check_lengths("ta.obv", "close and volume", 2, lengths);
	if (c.n == 0)
		PG_RETURN_DATUM(ts_array(NULL, 0));
	/* ta._prep made every NaN a NULL; infinities stay values */
	start = ts_first_valid(c.n, c.v, v.v, NULL, NULL);
	close = (obv_series) {c.v + start, NULL, true, c.n - start};
	volume = (obv_series) {v.v + start, NULL, true, v.n - start};
	out = palloc(sizeof(double) * c.n);
	outnull = palloc(sizeof(bool) * c.n);
	for (int i = 0; i < start; i++)
	{
		out[i] = NAN;
		outnull[i] = true;
	}
	obv_step(&empty, &close, &volume, out + start, outnull + start, new_state, new_null);
	PG_RETURN_DATUM(ts_array_flags(out, outnull, c.n));
}
