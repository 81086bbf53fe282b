"""The ways a rollout stops early, each with its own exit code."""


class RolloutError(Exception):
    """Bad usage, an API error, or another writer; the message says where traffic is (exit 2)."""


class WriteFailed(RolloutError):
    """A write failed and did not land; ``found`` is the Service read back, None if unread."""

    def __init__(self, message: str, found: dict | None) -> None:
        super().__init__(message)
        self.found = found


class Superseded(RolloutError):
    """Someone else holds the Service's lease or changed its traffic; nothing was written."""


class GateFailed(Exception):
    """The candidate failed its gate and traffic was put back as it was (exit code 1)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (CI cancels a job, a pod is evicted), raised where Ctrl-C raises
    KeyboardInterrupt, so it is handled the same way; exit code 143 instead of 130."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM stopped the command; the message says where traffic is (exit code 130,
    or 143 when ``by`` is ``Terminated``)."""

    def __init__(self, message: str, by: BaseException | None = None) -> None:
        super().__init__(message)
        self.code = 143 if isinstance(by, Terminated) else 130
