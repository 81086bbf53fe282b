"""The two ways a rollout stops early, each with its own exit code."""


class RolloutError(Exception):
    """Bad usage or an API error; the failed call changed no traffic (exit code 2)."""


class GateFailed(Exception):
    """The candidate failed its gate and traffic was put back as it was (exit code 1)."""
