"""Write the 12345 reply-back rows of resolved hotline petitions that have none (idempotent)."""

from django.core.management.base import BaseCommand

from appeals.services.hotline_reply import hotline_replies_backfill


class Command(BaseCommand):
    help = "Write the reply owed to the 12345 hotline for resolved hotline petitions that have none yet."

    def handle(self, *args, **options):
        written = hotline_replies_backfill()
        self.stdout.write(f"回单：补写 {written} 条。")
