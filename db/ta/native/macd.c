/*
 * MACD kernel: port of ta._macd_step and ta.macd (db/ta/R__macd.sql).
 *
 * The PL/pgSQL kernel runs its three EMAs (fast, slow, signal) in one per-bar loop with one bar
 * count in its state, so this ports that loop rather than reusing ts_ema_step.
 */
#include "tsquant_ta.h"

/*
 * MACD over the chunk x[0..m) after the bars summarised by state (nstate = 0: none). line, sig
 * and hist get m values, new_state 4: [count, fast EMA, slow EMA, signal EMA] (each the running
 * seed sum while inside its seed window). The PL/pgSQL's ta._mul branches for tiny EMAs are plain
 * C products, so each CASE is one expression here.
 */
static void
macd_step(const double *state, int nstate, const double *x, int m,
		  int fastperiod, int slowperiod, int signalperiod,
		  double *line_out, double *sig_out, double *hist_out, double *new_state)
{
	int			fast = fastperiod < slowperiod ? fastperiod : slowperiod;
	int			slow = fastperiod < slowperiod ? slowperiod : fastperiod;
	int			sig = signalperiod;
	double		kf = 2.0 / (fast + 1);
	double		ks = 2.0 / (slow + 1);
	double		kg = 2.0 / (sig + 1);
	int64		count = 0;
	double		f = 0.0;
	double		s = 0.0;
	double		g = 0.0;

	if (nstate > 0)
	{
		count = (int64) rint(state[0]);
		f = ts_state_at(state, nstate, 1);
		s = ts_state_at(state, nstate, 2);
		g = ts_state_at(state, nstate, 3);
	}
	for (int i = 0; i < m; i++)
	{
		int64		t = count + i;	/* bar index since the first bar, 0-based */
		double		v = x[i];
		double		line;

		line_out[i] = NAN;
		sig_out[i] = NAN;
		hist_out[i] = NAN;
		if (t < (int64) slow - 1)
		{
			s = s + v;
			if (t >= (int64) slow - fast)
				f = f + v;
			continue;
		}
		else if (t == (int64) slow - 1)
		{
			s = (s + v) / slow;
			f = (f + v) / fast;
		}
		else
		{
			f = (v - f) * kf + f;
			s = (v - s) * ks + s;
		}
		line = f - s;
		if (sig == 1)
			g = line;
		else if (t < (int64) slow + sig - 2)
		{
			g = g + line;
			continue;
		}
		else if (t == (int64) slow + sig - 2)
			g = (g + line) / sig;
		else
			g = (line - g) * kg + g;
		line_out[i] = line;
		sig_out[i] = g;
		hist_out[i] = line - g;
	}
	new_state[0] = (double) (count + m);
	new_state[1] = f;
	new_state[2] = s;
	new_state[3] = g;
}

PG_FUNCTION_INFO_V1(ta_native_macd_step);

/* ta_native.macd_step(state, x, fastperiod, slowperiod, signalperiod) -> (macd, macdsignal, macdhist, state) */
Datum
ta_native_macd_step(PG_FUNCTION_ARGS)
{
	ts_series	state = ts_arg_series(fcinfo, 0);
	ts_series	x = ts_arg_series(fcinfo, 1);
	int			fastperiod = ts_arg_int(fcinfo, 2, "ta_native.macd_step", "p_fastperiod");
	int			slowperiod = ts_arg_int(fcinfo, 3, "ta_native.macd_step", "p_slowperiod");
	int			signalperiod = ts_arg_int(fcinfo, 4, "ta_native.macd_step", "p_signalperiod");
	int			n = x.n > 0 ? x.n : 1;
	double	   *line = palloc(sizeof(double) * n);
	double	   *sig = palloc(sizeof(double) * n);
	double	   *hist = palloc(sizeof(double) * n);
	double		new_state[4];
	Datum		values[4];

	if (fastperiod < 1 || slowperiod < 1 || signalperiod < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ta_native.macd_step: p_fastperiod, p_slowperiod and p_signalperiod must be >= 1")));
	macd_step(state.v, state.n, x.v, x.n, fastperiod, slowperiod, signalperiod, line, sig, hist, new_state);
	values[0] = ts_array(line, x.n);
	values[1] = ts_array(sig, x.n);
	values[2] = ts_array(hist, x.n);
	values[3] = ts_array(new_state, 4);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 4));
}

PG_FUNCTION_INFO_V1(ta_native_macd);

/*
 * ta_native.macd(x, fastperiod, slowperiod, signalperiod) -> (macd, macdsignal, macdhist):
 * ta.macd (ta._prep, ta._check_period, ta._macd_step) natively.
 */
Datum
ta_native_macd(PG_FUNCTION_ARGS)
{
	ts_series	x = ts_arg_prepped(fcinfo, 0, "ta.macd", "x");
	int			fastperiod = PG_GETARG_INT32(1);
	int			slowperiod = PG_GETARG_INT32(2);
	int			signalperiod = PG_GETARG_INT32(3);
	int			start;
	double	   *line;
	double	   *sig;
	double	   *hist;
	double		state[4];
	Datum		values[3];

	ts_check_period("ta.macd", "fastperiod", fastperiod, 2, 100000);
	ts_check_period("ta.macd", "slowperiod", slowperiod, 2, 100000);
	ts_check_period("ta.macd", "signalperiod", signalperiod, 1, 100000);
	if (x.n == 0)
	{
		values[0] = values[1] = values[2] = ts_array(NULL, 0);
		PG_RETURN_DATUM(ts_record(fcinfo, values, 3));
	}
	start = ts_first_valid(x.n, x.v, NULL, NULL, NULL);
	line = ts_nan_buffer(x.n);
	sig = ts_nan_buffer(x.n);
	hist = ts_nan_buffer(x.n);
	macd_step(NULL, 0, x.v + start, x.n - start, fastperiod, slowperiod, signalperiod,
			  line + start, sig + start, hist + start, state);
	values[0] = ts_array(line, x.n);
	values[1] = ts_array(sig, x.n);
	values[2] = ts_array(hist, x.n);
	PG_RETURN_DATUM(ts_record(fcinfo, values, 3));
}
