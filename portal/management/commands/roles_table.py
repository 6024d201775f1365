"""Print the role × capability table (Markdown) that the README embeds."""

from django.core.management.base import BaseCommand

from portal.permissions import render_roles_table


class Command(BaseCommand):
    help = "Print the role × capability table as Markdown (kept in the README)."

    def handle(self, *args, **options):
        self.stdout.write(render_roles_table())
