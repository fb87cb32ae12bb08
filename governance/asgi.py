import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_asgi_application()

from governance.runtime import tune_gc  # noqa: E402  (needs the settings the line above loaded)

tune_gc()
