"""The rollout tool: move traffic between Knative revisions step by step, gated, with rollback.

Run as ``python -m knative.rollout`` (``rollout.py``: the command line, messages, exit codes).
Its rooms, each with one concern (knative/README.md has a section per room):

- ``commands/``: one module per command (``deploy``, ``shift`` with ``promote``, ``rollback``,
  ``status``), the steps they share, and a failed gated run's way back (``restore``);
- ``traffic/``: pure planning of what Knative routes (the split, Knative's rules, the new
  revision's template, the equivalent ``kn`` command);
- ``kube/``: the Kubernetes API (every call bounded and retried, conflicts, dry run, waits);
- ``lease/``: one writer at a time (take, renew and release the Lease; the guard before writes);
- ``gates/``: one module per gate, their settings in one place, the order they run in;
- ``record.py``: the record of a gated run (report, table, annotation); ``errors.py``: the ways
  a command stops early; ``text.py``: how numbers and tables are written.
"""
