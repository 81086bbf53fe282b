"""Before any test here imports locust: import it without gevent's monkey-patching."""

import tests.loadtest.locust_unpatched  # noqa: F401
