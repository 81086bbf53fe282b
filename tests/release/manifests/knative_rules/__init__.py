"""Hand-written copies of Knative's admission rules that its CRD schema does not check.

Only the manifest tests use them; the traffic rules are the rollout tool's own
(``knative.traffic_rules``), so there is one copy of those.
"""
