"""What ``doctor`` reads of a cluster besides the Service, as the Kubernetes API server answers it:
API discovery of Knative's group, Knative's ConfigMaps in ``knative-serving``, and
SelfSubjectAccessReviews answered from one table of what RBAC refuses, which the ConfigMap and
pod reads obey too (the Service, revisions and leases are served whatever it says).

Shapes from kubernetes' own source: a SelfSubjectAccessReview is answered 201 with the review
and its ``status`` (pkg/registry/authorization/selfsubjectaccessreview/rest.go ``Create``;
422 Invalid unless exactly one of resourceAttributes and nonResourceAttributes is set); RBAC
allows with the reason ``RBAC: allowed by RoleBinding ...`` and otherwise has no opinion:
``allowed: false`` and no reason (plugin/pkg/auth/authorizer/rbac/rbac.go ``Authorize``). A
request RBAC does not allow is 403 Forbidden with the API server's message. The ConfigMaps are
Knative 1.23's (config/core/configmaps/*.yaml) with the project's settings applied.
"""

import copy
import json

from tests.rollout.fake_knative_webhook import ApiError

KNATIVE_VERSION = "1.23.0"
RBAC_REASON = (
    'RBAC: allowed by RoleBinding "house-price-release/house-price" of Role '
    '"house-price-release" to Group "house-price-release"'
)
SERVING_RESOURCES = {
    "configurations": "Configuration",
    "revisions": "Revision",
    "routes": "Route",
    "services": "Service",
}


def configmap(name: str, data: dict) -> dict:
    labels = {
        "app.kubernetes.io/name": "knative-serving",
        "app.kubernetes.io/version": KNATIVE_VERSION,
    }
    metadata = {"name": name, "namespace": "knative-serving", "labels": labels}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


class FakeCluster:
    """Knative installed and configured as ``cluster/`` does it; knobs to take pieces away."""

    def __init__(self, registry: str):
        self.knative_installed = True
        self.configmaps = {
            "config-features": configmap(
                "config-features", {"tag-header-based-routing": "enabled"}
            ),
            "config-deployment": configmap(
                "config-deployment",
                {
                    "queue-sidecar-image": "gcr.io/knative-releases/knative.dev/serving/cmd/queue",
                    "pod-is-always-schedulable": "true",
                    "registries-skipping-tag-resolving": registry,
                },
            ),
        }
        self.denied: set[tuple[str, str, str]] = set()  # (verb, group, resource) RBAC refuses
        self.reviews: list[dict] = []  # every SelfSubjectAccessReview asked

    def deny(self, verb: str, group: str, resource: str) -> None:
        self.denied.add((verb, group, resource))

    def allows(self, verb: str, group: str, resource: str) -> bool:
        return (verb, group, resource) not in self.denied

    def authorize(self, verb: str, group: str, resource: str, namespace: str, name: str | None):
        """The API server's 403 for a request RBAC does not allow."""
        if self.allows(verb, group, resource):
            return
        kind = f"{resource}.{group}" if group else resource
        what = f'{kind} "{name}"' if name else kind
        raise ApiError(
            403,
            "Forbidden",
            f'{what} is forbidden: User "ci" cannot {verb} resource "{resource}" in API group '
            f'"{group}" in the namespace "{namespace}"',
        )

    def discovery(self, group: str) -> dict:
        """GET /apis/<group>/v1: the resources a group serves (404 if it is not installed)."""
        if group != "serving.knative.dev" or not self.knative_installed:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resources = [
            {"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind}
            | {"verbs": ["delete", "get", "list", "patch", "create", "update", "watch"]}
            for plural, kind in SERVING_RESOURCES.items()
        ]
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/v1",
            "resources": resources,
        }

    def configmap(self, namespace: str, name: str) -> dict:
        self.authorize("get", "", "configmaps", namespace, name)
        if namespace != "knative-serving" or name not in self.configmaps:
            raise ApiError(404, "NotFound", f'configmaps "{name}" not found')
        return copy.deepcopy(self.configmaps[name])

    def review(self, body: bytes) -> dict:
        """A SelfSubjectAccessReview answered (the handler sends it with 201 Created)."""
        review = json.loads(body)
        spec = review.get("spec") or {}
        attributes = spec.get("resourceAttributes")
        if (attributes is None) == (spec.get("nonResourceAttributes") is None):
            raise ApiError(
                422,
                "Invalid",
                'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
                "spec.resourceAttributes: Invalid value: null: exactly one of "
                "nonResourceAttributes or resourceAttributes must be specified",
            )
        self.reviews.append(attributes)
        allowed = self.allows(
            attributes.get("verb", ""), attributes.get("group", ""), attributes.get("resource", "")
        )
        status = {"allowed": True, "reason": RBAC_REASON} if allowed else {"allowed": False}
        return review | {"metadata": {"creationTimestamp": None}, "status": status}
