"""The prediction-shift check of the live gate: do blue and green price the same traffic alike?

Knative splits a step's requests at random, so over one window the candidate and the incumbent
answer the same population of inputs; their predictions should be distributed alike unless the
model changed on purpose. The predictor counts every price it answers in the histogram
``house_price_predicted_value`` (per revision, buckets of $1,000 over the card's label range,
``function/metrics.py``); this check reads both revisions' histograms over the window from
Prometheus and compares them.

The statistic is the two-sample Kolmogorov-Smirnov distance on the binned distributions: D, the
largest difference between the two revisions' shares of predictions at or below any bucket
bound (0: alike, 1: apart). It needs no model of prices, is bounded, reads in words ("at $30,000,
61 % of green's predictions but 86 % of blue's"), and its sampling noise is known: for samples
of n and m predictions, D exceeds ``c(α)·sqrt((n + m) / (n·m))`` by chance with probability at
most α (binning only lowers D). So the check fails when D exceeds ``--max-prediction-shift``
*plus* that allowance (α = 1 %): a shift that sampling explains never fails, and the allowance
shrinks as the revisions answer more. A Wasserstein distance would read in dollars, but its noise
depends on the prices' spread, with no bound as simple to state.

``--max-prediction-shift`` is a KS distance (a share, 0..1). Its default, 0.10, lets a retrained
model through: v1 -> v2 measures 0.051 in the live-gate tests (17,000 predictions a side, rows
drawn across the features' ranges), 0.04 on 200,000 such rows, 0.02 on the data set's rows;
prices 15 % higher across the board measure 0.14.
"""

import math
from dataclasses import dataclass

from knative.gates.checks import Check
from knative.gates.settings import GateSettings
from knative.text import percent

NAME = "prediction shift"
METRIC = "house_price_predicted_value_bucket"
ALPHA = 0.01  # the chance that sampling alone takes D over the allowance
C_ALPHA = math.sqrt(-math.log(ALPHA / 2) / 2)  # Kolmogorov's c(α): 1.63 for α = 1 %
QUANTILES = (0.1, 0.5, 0.9)


def query(revisions: list[str], seconds: int) -> str:
    """Each revision's cumulative count of predictions per bucket bound (``le``) in the window."""
    match = f'revision=~"{"|".join(revisions)}"'
    return f"sum by (revision, le) (increase({METRIC}{{{match}}}[{seconds}s]))"


@dataclass(frozen=True)
class Predictions:
    """One revision's predictions in a window: how many fell at or below each bucket bound."""

    bounds: tuple[float, ...]  # ascending, the last one +Inf
    cumulative: tuple[float, ...]

    @property
    def count(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def share(self, bound: float) -> float:
        """The share of predictions at or below ``bound`` (one of the bounds)."""
        return self.cumulative[self.bounds.index(bound)] / self.count

    def quantile(self, q: float) -> float:
        """As Prometheus's ``histogram_quantile``: linear within the bucket (the first from 0);
        in the +Inf bucket, the highest finite bound."""
        rank = q * self.count
        lower, below = 0.0, 0.0
        for bound, count in zip(self.bounds, self.cumulative, strict=True):
            if count >= rank and count > below:
                if math.isinf(bound):
                    return lower
                return lower + (bound - lower) * (rank - below) / (count - below)
            lower, below = bound, count
        return lower


def by_revision(found: dict[tuple[str, str], float]) -> dict[str, Predictions]:
    """The answer to ``query`` ({(revision, le): count}) as each revision's ``Predictions``."""
    buckets: dict[str, dict[float, float]] = {}
    for (revision, le), count in found.items():
        buckets.setdefault(revision, {})[float(le)] = count
    return {
        revision: Predictions(tuple(sorted(counts)), tuple(counts[b] for b in sorted(counts)))
        for revision, counts in buckets.items()
    }


def shift_check(
    found: dict[str, Predictions], candidate: str, incumbent: str, limits: GateSettings
) -> Check:
    """Compare the candidate's predictions with the incumbent's over the same window."""
    ours, theirs = found.get(candidate), found.get(incumbent)
    n, m = (ours.count if ours else 0.0), (theirs.count if theirs else 0.0)
    counted = f"{n:.0f} predictions of {candidate} and {m:.0f} of {incumbent}"
    numbers = {"predictions": {candidate: n, incumbent: m}}
    if n < limits.min_requests:
        line = f"{counted} (at least {limits.min_requests} wanted) FAILED: not enough data"
        return Check(NAME, False, f"{NAME}: {line}", numbers | {"enough": False})
    if m < limits.min_requests:
        line = f"{counted}: {incumbent} made too few to compare (reported)"
        return Check(NAME, None, f"{NAME}: {line}", numbers)
    bounds = [b for b in ours.bounds if b in theirs.bounds and not math.isinf(b)]
    gaps = {bound: ours.share(bound) - theirs.share(bound) for bound in bounds}
    widest = max(gaps, key=lambda bound: abs(gaps[bound]))
    distance = abs(gaps[widest])
    allowance = C_ALPHA * math.sqrt((n + m) / (n * m))
    limit = limits.max_prediction_shift + allowance
    passed = distance <= limit
    line = (
        f"{NAME} {distance:.3f} (KS distance over {counted}; largest at {_price(widest)}: "
        f"{percent(ours.share(widest))} of {candidate}'s at or below it, "
        f"{percent(theirs.share(widest))} of {incumbent}'s; "
        f"{'/'.join(f'p{q * 100:.0f}' for q in QUANTILES)} {_prices(ours)} vs {_prices(theirs)}; "
        f"limit {limit:.3f} = --max-prediction-shift {limits.max_prediction_shift:g} "
        f"+ {allowance:.3f} for sampling) "
        + ("ok" if passed else f"FAILED: {distance - limit:.3f} over")
    )
    numbers |= {
        "distance": distance,
        "at": widest,
        "limit": limit,
        "allowance": allowance,
        "quantiles": {
            revision: [side.quantile(q) for q in QUANTILES]
            for revision, side in ((candidate, ours), (incumbent, theirs))
        },
    }
    return Check(NAME, passed, line, numbers)


def _price(thousands: float) -> str:
    """24.0 (the card's unit, $1000s) -> ``$24,000``."""
    return f"${thousands * 1000:,.0f}"


def _prices(side: Predictions) -> str:
    return "/".join(f"${side.quantile(q):.1f}k" for q in QUANTILES)
