"""``manage.py pipeline_retry [--all | ID …]``: run set-aside transactions through again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ...models import DeadLetter
from ...orchestrator import dead_letters_retry


class Command(BaseCommand):
    help = "Retry dead letters: every waiting one (--all) or the transaction ids given."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ids", nargs="*", help="transaction ids of waiting dead letters")
        parser.add_argument("--all", action="store_true", help="every waiting dead letter")

    def handle(self, *args, ids: list[str], all: bool, **options) -> None:  # noqa: A002
        if bool(ids) == all:
            raise CommandError("Give transaction ids, or --all (not both).")
        waiting = DeadLetter.objects.waiting()
        if ids:
            waiting = waiting.filter(transaction_id__in=ids)
        found = [str(pk) for pk in waiting.values_list("transaction_id", flat=True)]
        if missing := sorted(set(ids) - set(found)):
            raise CommandError(f"No waiting dead letter for: {', '.join(missing)}")
        done = dead_letters_retry(transaction_ids=found)
        self.stdout.write(f"{done} of {len(found)} went through the pipeline.")
