"""Hand-written copies of Knative's admission rules that its CRD schema does not check.

Copied from ``pkg/apis/serving`` and ``pkg/apis/autoscaling`` of the release kept in
``../knative-serving/``. The manifest tests check our Service with them, and the fake Knative
API of the rollout tests (``tests/rollout/fake_knative_webhook.py``) denies with them; the
traffic rules are the rollout tool's own (``knative.traffic.rules``), so there is one copy.
"""
