"""Blue and green as real pods on 127.0.0.1: server processes behind a route splitting 70/30."""

from contextlib import ExitStack, contextmanager

from loadtest.local_server import start_server, stop, wait_ready
from tests.support.repo import MODEL_DATA
from tests.support.weighted_router import routing

BLUE, GREEN = "house-price-v1", "house-price-v2"
PODS = {  # pod name (its hostname, named in X-Pod): (revision, model version)
    "house-price-v1-pod-a": (BLUE, 1),
    "house-price-v1-pod-b": (BLUE, 1),
    "house-price-v2-pod-a": (GREEN, 2),
}
SPLIT = {BLUE: 70, GREEN: 30}  # percent of the route's traffic, as Knative's spec.traffic


@contextmanager
def blue_green(seed: int = 0):
    """Yield (route URL, the Route, {pod: its own URL}); the route splits per SPLIT."""
    with ExitStack() as cleanup:
        started = {}
        for pod, (revision, version) in PODS.items():
            process, url = start_server(
                K_REVISION=revision,
                MODEL_PATH=str(MODEL_DATA / f"model-v{version}.onnx"),
                EXPOSE_POD_NAME="1",
                HOSTNAME=pod,
            )
            cleanup.callback(stop, process)
            started[pod] = process, url
        for process, url in started.values():
            wait_ready(process, url)
        urls = {pod: url for pod, (_process, url) in started.items()}
        pods_of = {rev: sum(PODS[p][0] == rev for p in PODS) for rev in SPLIT}
        weights = {url: SPLIT[PODS[pod][0]] / pods_of[PODS[pod][0]] for pod, url in urls.items()}
        with routing(weights, seed) as (route_url, route):
            yield route_url, route, urls


def posts_per_pod(route, urls) -> dict[str, int]:
    """How many POST requests (of any path) the route sent to each pod."""
    sent = {url: 0 for url in urls.values()}
    for (url, line), count in route.sent.items():
        sent[url] += count if line.startswith("POST ") else 0
    return {pod: sent[url] for pod, url in urls.items()}


def per_revision(route, urls, request_line: str) -> dict[str, int]:
    """How many requests of one kind the route sent to each revision."""
    sent = route.count(request_line)
    counts = dict.fromkeys(SPLIT, 0)
    for pod, url in urls.items():
        counts[PODS[pod][0]] += sent[url]
    return counts
