/*
 * tsquant_ta: argument and result plumbing shared by the native kernels (see tsquant_ta.h).
 */
#include "tsquant_ta.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(ta_native_version);

/* ta_native.version(): the library's version and source fingerprint, set by the build. */
Datum
ta_native_version(PG_FUNCTION_ARGS)
{
#ifndef TSQ_NATIVE_SOURCE
#define TSQ_NATIVE_SOURCE "unknown"
#endif
	PG_RETURN_TEXT_P(cstring_to_text("tsquant_ta 1.0 (source " TSQ_NATIVE_SOURCE ")"));
}

ts_series
ts_arg_series(FunctionCallInfo fcinfo, int argno)
{
	ts_series	s = {NULL, 0, NULL};
	ArrayType  *a;
	int			n;

	if (PG_ARGISNULL(argno))
		return s;
	a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("ta_native: expected a float8[] argument")));
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	s.n = n;
	if (n == 0)
		return s;
	if (!ARR_HASNULL(a))
	{
		/* float8 data is MAXALIGNed: read it in place */
		s.v = (const double *) ARR_DATA_PTR(a);
	}
	else
	{
		double	   *v = palloc(sizeof(double) * n);
		bool	   *isnull = palloc(sizeof(bool) * n);
		const double *data = (const double *) ARR_DATA_PTR(a);
		bits8	   *bitmap = ARR_NULLBITMAP(a);

		for (int i = 0; i < n; i++)
		{
			isnull[i] = (bitmap[i / 8] & (1 << (i % 8))) == 0;
			v[i] = isnull[i] ? NAN : *data++;
		}
		s.v = v;
		s.isnull = isnull;
	}
	return s;
}

int
ts_arg_int(FunctionCallInfo fcinfo, int argno, const char *func, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("%s: %s must not be NULL", func, name)));
	return PG_GETARG_INT32(argno);
}

double
ts_arg_float8(FunctionCallInfo fcinfo, int argno, const char *func, const char *name)
{
	if (PG_ARGISNULL(argno))
		return NAN;
	return PG_GETARG_FLOAT8(argno);
}

double *
ts_nan_buffer(int n)
{
	double	   *v = palloc(sizeof(double) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		v[i] = NAN;
	return v;
}

/* The one array builder: element i is NULL when isnull[i] (isnull given) or v[i] is NaN (not). */
static Datum
build_array(const double *v, const bool *isnull, int n)
{
	int			nnull = 0;
	Size		nbytes;
	int32		dataoffset;
	ArrayType  *r;

#define IS_NULL(i) (isnull ? isnull[i] : isnan(v[i]))
	if (n == 0)
		return PointerGetDatum(construct_empty_array(FLOAT8OID));
	for (int i = 0; i < n; i++)
		nnull += IS_NULL(i) ? 1 : 0;
	if (nnull == 0)
	{
		dataoffset = 0;
		nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * (Size) n;
	}
	else
	{
		dataoffset = ARR_OVERHEAD_WITHNULLS(1, n);
		nbytes = dataoffset + sizeof(double) * (Size) (n - nnull);
	}
	if (!AllocSizeIsValid(nbytes))
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("ta_native: result array too large")));
	r = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(r, nbytes);
	r->ndim = 1;
	r->dataoffset = dataoffset;
	r->elemtype = FLOAT8OID;
	ARR_DIMS(r)[0] = n;
	ARR_LBOUND(r)[0] = 1;
	if (nnull == 0)
		memcpy(ARR_DATA_PTR(r), v, sizeof(double) * (Size) n);
	else
	{
		bits8	   *bitmap = ARR_NULLBITMAP(r);
		double	   *data = (double *) ARR_DATA_PTR(r);

		for (int i = 0; i < n; i++)
		{
			if (!IS_NULL(i))
			{
				bitmap[i / 8] |= (bits8) (1 << (i % 8));
				*data++ = v[i];
			}
		}
	}
#undef IS_NULL
	return PointerGetDatum(r);
}

Datum
ts_array(const double *v, int n)
{
	return build_array(v, NULL, n);
}

Datum
ts_array_flags(const double *v, const bool *isnull, int n)
{
	/* isnull NULL = no NULL at all (NaN values stay NaN) */
	if (isnull == NULL && n > 0)
	{
		bool	   *flags = palloc0(sizeof(bool) * n);

		return build_array(v, flags, n);
	}
	return build_array(v, isnull, n);
}

Datum
ts_record(FunctionCallInfo fcinfo, Datum *values, int nvalues)
{
	TupleDesc	tupdesc;
	bool		nulls[16] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("ta_native: function must return a record")));
	if (tupdesc->natts != nvalues || nvalues > 16)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
						errmsg("ta_native: declared %d outputs, kernel made %d", tupdesc->natts, nvalues)));
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

void
ts_same_length(const char *func, int n1, int n2)
{
	if (n1 != n2)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s: input series must have the same length (got %d and %d)", func, n1, n2)));
}

ts_series
ts_arg_prepped(FunctionCallInfo fcinfo, int argno, const char *func, const char *arg)
{
	if (!PG_ARGISNULL(argno))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("%s: %s must be a one-dimensional array", func, arg)));
	}
	return ts_arg_series(fcinfo, argno);
}

void
ts_check_period(const char *func, const char *arg, int value, int min, int max)
{
	if (value < min || value > max)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s: %s must be between %d and %d (got %d)", func, arg, min, max, value)));
}

void
ts_check_lengths(const char *func, const char *names, int nseries, const int *lengths)
{
	for (int i = 1; i < nseries; i++)
	{
		if (lengths[i] != lengths[0])
		{
			StringInfoData got;

			initStringInfo(&got);
			for (int j = 0; j < nseries; j++)
				appendStringInfo(&got, "%s%d", j ? ", " : "", lengths[j]);
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("%s: %s must have the same length (got %s)", func, names, got.data)));
		}
	}
}

int
ts_first_valid(int n, const double *a, const double *b, const double *c, const double *d)
{
	for (int i = 0; i < n; i++)
	{
		if (!isnan(a[i]) && (b == NULL || !isnan(b[i])) && (c == NULL || !isnan(c[i]))
			&& (d == NULL || !isnan(d[i])))
			return i;
	}
	return n - 1;
}

const double *
ts_padded(ts_series s, int m)
{
	double	   *v;

	if (s.n >= m)
		return s.v;
	v = ts_nan_buffer(m);
	if (s.n > 0)
		memcpy(v, s.v, sizeof(double) * s.n);
	return v;
}

/*
 * greatest() skips NULLs and keeps the first of equal values; a NaN h or l then poisons the sum
 * through (h - l) * 0.
 */
double
ts_true_range(double h, double l, double pc)
{
	double		hl = h - l;
	double		a = fabs(pc - h);
	double		b = fabs(pc - l);
	double		g = hl;

	if (!isnan(a) && (isnan(g) || a > g))
		g = a;
	if (!isnan(b) && (isnan(g) || b > g))
		g = b;
	return g + hl * 0;
}

Datum
ts_period_public(FunctionCallInfo fcinfo, const char *func, int min_period, ts_period_step step)
{
	ts_series	x = ts_arg_prepped(fcinfo, 0, func, "x");
	int			period = PG_GETARG_INT32(1);
	int			start;
	double	   *out;

	ts_check_period(func, "timeperiod", period, min_period, 100000);
	if (x.n == 0)
		return ts_array(NULL, 0);
	start = ts_first_valid(x.n, x.v, NULL, NULL, NULL);
	out = ts_nan_buffer(x.n);
	/* too short for one output: the kernel leaves every value NULL, as the wrappers' shortcut */
	step(NULL, 0, x.v + start, x.n - start, period, out + start, palloc(sizeof(double) * ((Size) period + 4)));
	return ts_array(out, x.n);
}
