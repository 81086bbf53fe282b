"""The rollout tool: move traffic between Knative revisions step by step, gated, with rollback.

Run as ``python -m knative.rollout``. Pure planning lives in ``plan`` and ``kn``; ``api`` talks to
the Kubernetes API, ``gate`` probes a revision, ``commands`` and ``shift`` tie them together.
"""
