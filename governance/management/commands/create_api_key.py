"""Create an API client (an Open311 app) and print its key once: `manage.py create_api_key "市民通"`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from governance.models import ApiClient


class Command(BaseCommand):
    help = "Create an API client and print its key. Only a hash is stored: copy the key now."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name people recognise; it is the actor shown on petitions.")
        parser.add_argument(
            "--rotate", action="store_true", help="Give an existing client a new key (the old one stops working)."
        )

    def handle(self, *args, name: str, rotate: bool, **options):
        if rotate:
            with transaction.atomic():
                client = ApiClient.objects.select_for_update().filter(name=name.strip()).first()
                if client is None:
                    raise CommandError(f"No API client is called {name!r}.")
                key = client.set_new_key()
                client.save(update_fields=["key_prefix", "key_hash"])
        else:
            try:
                client, key = ApiClient.create_with_key(name=name)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        self.stderr.write(f"API client {client.name!r}: copy this key now, it will not be shown again.")
        self.stdout.write(key)
