from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        # The residents' policy finder asks petitions "has an open petition" through this hook.
        from appeals.resident_links import open_petition_contacts
        from residents.finder import register_open_petition_source

        register_open_petition_source(open_petition_contacts)

        # The bell's unread count, read by the session's own statement (one round trip less a page).
        from appeals.inbox import BELL_READ, unread_subquery
        from governance.sessions import register_session_read

        register_session_read(BELL_READ, unread_subquery)
