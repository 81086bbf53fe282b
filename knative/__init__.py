"""The rollout tool: move traffic between Knative revisions step by step, gated, with rollback.

Run as ``python -m knative.rollout`` (the command line). One module per command: ``deploy``,
``shift`` (and ``promote``), ``rollback``, ``status``; the steps they share live in ``steps``.
Pure planning: ``plan`` (next split), ``traffic_rules`` (what Knative admits), ``template`` (the
new revision), ``kn_command`` (the equivalent kn command). ``api`` talks to the Kubernetes API,
``errors`` holds the ways a command stops early. The gates of ``shift`` and ``promote``
(``gates``): ``gate`` probes the candidate, ``quality`` measures it on the reference rows of
``model_data/`` (``reference``, ``predictions``), ``live`` judges its real traffic in Prometheus
(``prometheus``); ``report`` and ``record`` keep what they found.
"""
