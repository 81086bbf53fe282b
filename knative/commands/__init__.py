"""One module per command of ``python -m knative.rollout``, and the steps they share."""
