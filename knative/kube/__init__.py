"""The Kubernetes API: calls bounded and retried; the Knative Service, its revisions, writes."""
