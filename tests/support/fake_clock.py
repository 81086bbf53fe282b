"""An injectable clock for tests: ``sleep`` only moves time on, and runs hooks."""


class FakeClock:
    """``monotonic`` and ``sleep`` as the code under test uses them.

    The hooks in ``on_sleep`` run once, at the next ``sleep``; a hook that adds a hook has it run
    at the sleep after.
    """

    def __init__(self):
        self.now, self.sleeps, self.on_sleep = 0.0, [], []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        hooks, self.on_sleep[:] = list(self.on_sleep), []
        for hook in hooks:
            hook()
