"""REST API of petitions (built in appeals issue; see docs/petitions.md)."""

urlpatterns: list = []
