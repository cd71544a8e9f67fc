/*
 * tsquant_ta: native (C) kernels of the ta.* indicators.
 *
 * Each kernel is a line-by-line port of a PL/pgSQL kernel in db/ta/R__<name>.sql, with the same
 * arguments, outputs and state layout, so that the two give identical bits and a state written
 * by one is read by the other. SQL NULL maps to NaN inside a kernel and back to NULL on output:
 * IEEE arithmetic and comparisons on NaN behave as the PL/pgSQL code's NULL arithmetic and
 * comparisons do (a NULL comparison is false in IF/CASE), and fmax/fmin ignore NaN as greatest()
 * and least() ignore NULL. Build with -ffp-contract=off: a fused multiply-add would round
 * differently from PostgreSQL's float8 operators.
 */
#ifndef TSQUANT_TA_H
#define TSQUANT_TA_H

#include "postgres.h"
#include "fmgr.h"

#include <math.h>

/*
 * A float8[] argument as a C array; NULL elements (and a NULL array: length 0) become NaN.
 * isnull flags the SQL NULLs (NULL when there is none), for the kernels that keep a real NaN
 * apart from NULL (OBV, VWAP).
 */
typedef struct
{
	const double *v;
	int			n;
	const bool *isnull;
} ts_series;

extern ts_series ts_arg_series(FunctionCallInfo fcinfo, int argno);
extern int	ts_arg_int(FunctionCallInfo fcinfo, int argno, const char *func, const char *name);
extern double ts_arg_float8(FunctionCallInfo fcinfo, int argno, const char *func, const char *name);

/* float8[] from a C array, NaN written as NULL. */
extern Datum ts_array(const double *v, int n);

/* float8[] from values and NULL flags (isnull NULL: none), NaN kept as a value (OBV, VWAP). */
extern Datum ts_array_flags(const double *v, const bool *isnull, int n);

/* Output buffer of n NaN (= NULL) values. */
extern double *ts_nan_buffer(int n);

/* The function's OUT record from its values (all float8[]). */
extern Datum ts_record(FunctionCallInfo fcinfo, Datum *values, int nvalues);

/*
 * What the PL/pgSQL public wrappers do before their kernel, with the same messages:
 * ta._prep's one-dimension check (NaN and NULL are the same NaN here), ta._check_period,
 * ta._check_lengths (n = number of series) and ta._first_valid (0-based; the last index when
 * no row is complete).
 */
extern ts_series ts_arg_prepped(FunctionCallInfo fcinfo, int argno, const char *func, const char *arg);
extern void ts_check_period(const char *func, const char *arg, int value, int min, int max);
extern void ts_check_lengths(const char *func, const char *names, int nseries, const int *lengths);
extern int	ts_first_valid(int n, const double *a, const double *b, const double *c, const double *d);

/* p_state[i + 1] of the PL/pgSQL: NULL (NaN) past the end of a short state array. */
static inline double
ts_state_at(const double *state, int nstate, int i)
{
	return i < nstate ? state[i] : NAN;
}

/* A step kernel's series with at least m values: p_x[i] past the end is NULL in PL/pgSQL. */
extern const double *ts_padded(ts_series s, int m);

/* ta._true_range: greatest(h - l, |pc - h|, |pc - l|) + (h - l) * 0 (ATR and DMI). */
extern double ts_true_range(double h, double l, double pc);

/* A resumable kernel of one series and one period: state (nstate 0 = empty) + chunk -> out, new state. */
typedef void (*ts_period_step) (const double *state, int nstate, const double *x, int m, int period,
								double *out, double *new_state);

/*
 * The public wrapper of such a kernel (ta.sma, ta.ema, ta.rsi): ta._prep's check, the period
 * check, then the kernel from the empty state after the leading NULLs, NULL-padded in front.
 * The kernel's state must fit in period + 4 values.
 */
extern Datum ts_period_public(FunctionCallInfo fcinfo, const char *func, int min_period, ts_period_step step);

/* Check that a step kernel got as many elements in each series (the PL/pgSQL wrappers check). */
extern void ts_same_length(const char *func, int n1, int n2);

/* Bars consumed, as stored in state[1] (a float8 holding an integer). */
#define TS_COUNT(x) ((int64) (x))

/*
 * TA-Lib's running SMA, ta._sma_step: the core of SMA and of STOCH's smoothing. The state is
 * [count, total, last period-1 inputs (NaN-padded in front while fewer)]: 2 + period - 1 values.
 * out gets m values; new_state gets ts_sma_state_len(period) values.
 */
extern int	ts_sma_state_len(int period);
extern void ts_sma_step(const double *state, int nstate, const double *x, int m, int period,
						double *out, double *new_state);

/* TA-Lib's EMA, ta._ema_step: state [count, seed sum while fewer than period bars, then last EMA]. */
extern void ts_ema_step(const double *state, int nstate, const double *x, int m, int period,
						double *out, double *new_state);

#endif
