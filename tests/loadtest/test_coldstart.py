import pytest

from loadtest.coldstart import ColdStartTracker
from tests.support.fake_clock import FakeClock


def test_requests_into_a_long_silence_are_cold_until_one_is_answered():
    clock = FakeClock()
    tracker = ColdStartTracker(window=60, clock=clock.monotonic)
    assert not tracker.is_cold()  # the silence before the first answer was not observed
    tracker.answered()

    clock.now = 60
    assert not tracker.is_cold()  # exactly the window: a pod may still be there
    clock.now = 61
    assert tracker.is_cold()
    clock.now = 65
    assert tracker.is_cold()  # still nobody answered: this one waits for the pod too
    tracker.answered()
    assert not tracker.is_cold()


def test_labels_keep_cold_requests_apart_in_the_stats():
    tracker = ColdStartTracker(window=1)
    assert tracker.label("/predict", cold=True) == "/predict [cold]"
    assert tracker.label("/predict", cold=False) == "/predict"


def test_rejects_a_window_that_is_not_positive():
    with pytest.raises(ValueError, match="must be positive"):
        ColdStartTracker(window=0)
