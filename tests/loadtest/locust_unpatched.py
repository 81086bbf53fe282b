"""Import locust without gevent's monkey-patching, for unit tests in the pytest process.

locust patches sockets, threads and time at its first import unless LOCUST_SKIP_MONKEY_PATCH is
set; patched, every other test in this process would run on greenlets. conftest.py imports this
module before any test here imports locust. Real load runs happen in a locust subprocess, patched.
"""

import os

KEY = "LOCUST_SKIP_MONKEY_PATCH"
_previous = os.environ.get(KEY)
os.environ[KEY] = "1"
try:
    import locust  # noqa: F401
finally:
    if _previous is None:
        del os.environ[KEY]
    else:
        os.environ[KEY] = _previous
