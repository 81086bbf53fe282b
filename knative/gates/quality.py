"""The model-quality gate, before any traffic moves: the labelled reference rows go to the candidate
and to the incumbent, and the candidate must predict them as well as its card says and about as
well as the incumbent does, differently for different inputs, and with every feature it uses.
"""

import math
import statistics
import time

from knative.errors import RolloutError
from knative.gates.checks import Check, GateRun
from knative.gates.model_card import SANITY_ROWS, Reference, load
from knative.gates.predictor import PROBE_ROWS, Answers, NoPredictions, predict
from knative.gates.settings import GateSettings
from knative.text import percent

MIN_SPREAD = 0.1  # the predictions' standard deviation must reach 10 % of the labels'
FEATURE_EFFECT = 0.001  # in $1000s: a change of less than $1 is no change


def quality_gate(
    urls: dict[str, str], candidate: str, incumbent: str, limits: GateSettings
) -> GateRun:
    """Measure ``candidate`` against ``incumbent`` (``urls`` maps each to its URL): a GateRun."""
    started, sent = time.perf_counter(), [0]

    def ask(revision: str, rows: list[dict]) -> Answers:
        try:
            answers = predict(urls[revision], revision, rows)
        except NoPredictions as exc:
            sent[0] += exc.requests
            raise
        sent[0] += answers.requests
        return answers

    def run(checks: list[Check]) -> GateRun:
        return GateRun("quality", None, checks, sent[0], time.perf_counter() - started)

    try:
        version = ask(candidate, PROBE_ROWS).model_version
        if not version:
            raise RolloutError(f"{candidate} names no model (X-Model-Version): no card to load")
        reference = load(limits.model_data, version)
        ours = ask(candidate, reference.rows).predictions
        moved = [row for f in reference.features for rows in reference.moved(f) for row in rows]
        moved_predictions = ask(candidate, moved).predictions
    except NoPredictions as exc:
        return run([Check("answers", False, f"{candidate} did not answer the rows: {exc}")])
    try:
        theirs = ask(incumbent, reference.rows).predictions
    except NoPredictions as exc:
        raise RolloutError(f"cannot measure the incumbent {incumbent}: {exc}") from None
    labels = reference.labels
    errors = {
        name: (measure(ours, labels), getattr(reference, name.lower()), measure(theirs, labels))
        for name, measure in (("RMSE", rmse), ("MAE", mae))
    }
    checks = [error_check(name, *values, incumbent, limits) for name, values in errors.items()]
    return run(
        [
            *checks,
            agreement_check(ours, theirs, incumbent, limits),
            spread_check(ours, labels),
            feature_check(reference, moved_predictions),
        ]
    )


def rmse(predictions: list[float], labels: list[float]) -> float:
    return math.sqrt(
        statistics.fmean((p - y) ** 2 for p, y in zip(predictions, labels, strict=True))
    )


def mae(predictions: list[float], labels: list[float]) -> float:
    return statistics.fmean(abs(p - y) for p, y in zip(predictions, labels, strict=True))


def error_check(
    name: str,
    value: float,
    card: float,
    incumbent_value: float,
    incumbent: str,
    limits: GateSettings,
) -> Check:
    """``value`` within the card's error plus its tolerance, and the incumbent's plus its own."""
    bounds = {
        f"card +{percent(limits.card_tolerance)}": card * (1 + limits.card_tolerance),
        f"{incumbent} +{percent(limits.incumbent_tolerance)}": incumbent_value
        * (1 + limits.incumbent_tolerance),
    }
    bound, limit = min(bounds.items(), key=lambda item: item[1])
    passed = value <= limit
    line = (
        f"{name} {value:.2f} (card {card:.2f}, {incumbent} {incumbent_value:.2f}, "
        f"limit {limit:.2f} = {bound}) " + ("ok" if passed else f"FAILED: {value - limit:.2f} over")
    )
    numbers = {"value": value, "card": card, "incumbent": incumbent_value, "limit": limit}
    return Check(name, passed, line, numbers)


def agreement_check(
    ours: list[float], theirs: list[float], incumbent: str, limits: GateSettings
) -> Check:
    """How far the candidate's predictions are from the incumbent's; gated on request."""
    differences = [abs(a - b) for a, b in zip(ours, theirs, strict=True)]
    apart = sum(d > limits.agreement_delta for d in differences)
    share = apart / len(differences)
    line = (
        f"agreement with {incumbent}: mean |diff| {statistics.fmean(differences):.2f}, "
        f"max {max(differences):.2f}; {apart}/{len(differences)} rows ({percent(share, 1)}) "
        f"differ by more than {limits.agreement_delta:g} "
    )
    if limits.max_disagreeing_rows is None:
        passed, line = None, line + "(reported; --max-disagreeing-rows gates it)"
    else:
        passed = share <= limits.max_disagreeing_rows
        verdict = (
            "ok" if passed else f"FAILED: {percent(share - limits.max_disagreeing_rows, 1)} over"
        )
        line += f"(limit {percent(limits.max_disagreeing_rows, 1)}) {verdict}"
    numbers = {"mean": statistics.fmean(differences), "max": max(differences), "apart": apart}
    return Check("agreement", passed, line, numbers | {"rows": len(differences), "share": share})


def spread_check(ours: list[float], labels: list[float]) -> Check:
    """A model that answers the same whatever it is asked fails."""
    spread, wanted = statistics.pstdev(ours), MIN_SPREAD * statistics.pstdev(labels)
    passed = spread >= wanted
    line = (
        f"predictions vary: std {spread:.2f} over {len(ours)} rows (labels "
        f"{statistics.pstdev(labels):.2f}, at least {wanted:.2f}) "
        + ("ok" if passed else "FAILED: (nearly) the same answer for every row")
    )
    return Check("spread", passed, line, {"std": spread, "at_least": wanted})


def feature_check(reference: Reference, moved: list[float]) -> Check:
    """Each feature the card says is used moves some prediction; no other one moves any.

    ``moved`` holds the predictions for ``Reference.moved`` of each feature in turn: the rows at
    the feature's low, then at its high.
    """
    count = min(SANITY_ROWS, len(reference.rows))
    changed = {}
    for index, feature in enumerate(reference.features):
        low, high = moved[2 * index * count :][:count], moved[(2 * index + 1) * count :][:count]
        changed[feature.name] = sum(
            abs(a - b) > FEATURE_EFFECT for a, b in zip(low, high, strict=True)
        )
    ignored = [f.name for f in reference.features if f.used and not changed[f.name]]
    hidden = [f.name for f in reference.features if not f.used and changed[f.name]]
    wrong = [
        f"the card says it uses {', '.join(ignored)}, yet moving them changes no prediction",
        f"the card says it ignores {', '.join(hidden)}, yet moving them changes predictions",
    ]
    wrong = [claim for claim, names in zip(wrong, (ignored, hidden), strict=True) if names]
    shown = ", ".join(
        f"{f.name}{'' if f.used else ' (unused)'} {changed[f.name]}" for f in reference.features
    )
    verdict = "FAILED: " + "; ".join(wrong) if wrong else "ok"
    line = f"features move predictions (rows changed of {count}): {shown} {verdict}"
    return Check("features", not wrong, line, {"rows": count, "changed": changed})
