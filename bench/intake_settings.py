"""Settings of the intake bench's server: the project's, with the bench's URLconf (bench/intake_urls.py)."""

from governance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_urls"
