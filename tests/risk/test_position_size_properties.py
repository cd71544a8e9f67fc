"""Property tests of risk.position_size (REFERENCE.md §3): on random specs the database's volume
equals an exact recomputation with Python fractions, never risks more than the risk money, is a
multiple of the volume step, is never rounded up to the minimum and never exceeds the maximum."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

from hypothesis import HealthCheck, given, settings, strategies as st

TICK_SIZES = [Decimal(x) for x in ("0.00001", "0.0001", "0.001", "0.01", "0.25", "1")]
STEPS = [Decimal(x) for x in ("0.00001", "0.001", "0.01", "0.1", "1")]

specs = st.fixed_dictionaries({
    "equity": st.decimals(min_value=Decimal("10"), max_value=Decimal("10000000"), places=2),
    "risk": st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.1"), places=4),
    "entry": st.decimals(min_value=Decimal("0.5"), max_value=Decimal("70000"), places=5),
    "distance_ticks": st.integers(min_value=1, max_value=50000),
    "short": st.booleans(),
    "tick_size": st.sampled_from(TICK_SIZES),
    "tick_value": st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("100"), places=5),
    "step": st.sampled_from(STEPS),
    "min_steps": st.integers(min_value=0, max_value=100),
    "extra_steps": st.integers(min_value=1, max_value=10_000_000),
    "commission": st.sampled_from([Decimal("0"), Decimal("3.5"), Decimal("7"), Decimal("0.01")]),
})


def oracle_volume(s) -> tuple[Fraction, Fraction, Fraction]:
    """Exact MetaTrader sizing: (volume, risk money, loss per lot)."""
    s["max_steps"] = s["min_steps"] + s["extra_steps"]
    risk_money = Fraction(s["equity"]) * Fraction(s["risk"])
    loss_per_lot = Fraction(s["distance_ticks"]) * Fraction(s["tick_value"]) + Fraction(s["commission"])
    step = Fraction(s["step"])
    volume = floor(risk_money / loss_per_lot / step) * step
    if volume < Fraction(s["step"] * s["min_steps"]) or volume <= 0:
        return Fraction(0), risk_money, loss_per_lot
    return min(volume, Fraction(s["step"] * s["max_steps"])), risk_money, loss_per_lot


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=specs)
def test_position_size_matches_exact_sizing_and_never_exceeds_the_risk(conn, s) -> None:
    distance = s["distance_ticks"] * s["tick_size"]
    stop = s["entry"] + distance if s["short"] else s["entry"] - distance
    if stop <= 0:
        stop = s["entry"] + distance
    want, risk_money, loss_per_lot = oracle_volume(s)
    got = conn.execute(
        "select risk.position_size(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (s["equity"], s["risk"], s["entry"], stop, s["tick_size"], s["tick_value"], s["step"],
         s["step"] * s["min_steps"], s["step"] * s["max_steps"], s["commission"]),
    ).fetchone()[0]
    volume = Fraction(got)
    assert volume == want, f"{s}: got {got}, exact sizing gives {float(want)}"
    assert volume * loss_per_lot <= risk_money, "the loss at the stop exceeds the risk money"
    assert volume % Fraction(s["step"]) == 0, "not a multiple of the volume step"
    assert volume == 0 or volume >= Fraction(s["step"] * s["min_steps"]), "rounded up to the minimum"
    assert volume <= Fraction(s["step"] * s["max_steps"]), "above the maximum"
    if 0 < volume < Fraction(s["step"] * s["max_steps"]):
        assert (volume + Fraction(s["step"])) * loss_per_lot > risk_money, "one more step would still fit"
