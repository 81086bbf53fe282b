"""An injectable clock for tests: ``sleep`` only moves time on, and runs hooks."""


class FakeClock:
    """``monotonic`` and ``sleep`` as the code under test uses them; ``on_sleep`` hooks run once."""

    def __init__(self):
        self.now, self.sleeps, self.on_sleep = 0.0, [], []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        while self.on_sleep:
            self.on_sleep.pop(0)()
