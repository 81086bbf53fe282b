"""Tell cold requests (the first after the service could have scaled to zero) from warm ones."""

import time
from collections.abc import Callable

COLD_SUFFIX = " [cold]"


class ColdStartTracker:
    """A request is cold when it starts after more than `window` seconds without any answer.

    It stays cold until it is answered, so every request sent into the silence (the ones that
    wait for a pod to start) is cold, and the first answer makes the next requests warm again.
    Silence before the very first answer of a run is not observed and so not counted.
    """

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if window <= 0:
            raise ValueError(f"scale-to-zero window must be positive, got {window}")
        self.window = window
        self.clock = clock
        self.last_answer: float | None = None

    def is_cold(self) -> bool:
        """Whether a request starting now is cold."""
        return self.last_answer is not None and self.clock() - self.last_answer > self.window

    def answered(self) -> None:
        self.last_answer = self.clock()

    def label(self, name: str, cold: bool) -> str:
        """The stats name of a request: cold ones apart from warm ones."""
        return name + COLD_SUFFIX if cold else name
