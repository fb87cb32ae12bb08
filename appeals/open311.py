"""Open311 GeoReport v2."""

urlpatterns: list = []
