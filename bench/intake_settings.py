"""Settings of the intake bench's server: the project's, with the bench's URLconf (bench/intake_urls.py).

With `BENCH_SERVER_PROFILE=<file>` (set by `bench/intake.py --profile`) the first middleware
profiles every request of the gunicorn worker with cProfile and writes the accumulated stats to
that file (`bench.intake_urls.ProfileMiddleware`): the profile of the deployed path, not of
django.test.Client.
"""

import os

from governance.settings import *  # noqa: F403
from governance.settings import MIDDLEWARE

ROOT_URLCONF = "bench.intake_urls"

if os.environ.get("BENCH_SERVER_PROFILE"):
    MIDDLEWARE = ["bench.intake_urls.ProfileMiddleware", *MIDDLEWARE]
