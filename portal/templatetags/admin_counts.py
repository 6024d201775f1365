"""The admin list's count in words, with the plural form its number takes in the language."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def admin_result_count(cl) -> str:
    """ "5 правил расписания", not Django's "5 правила расписания".

    Django's admin puts the plural verbose name after any number but one; Russian declines the
    noun by the number (1 клиника, 3 клиники, 5 клиник). A ModelAdmin with a `count_phrase`
    (an `ngettext_lazy` with a `count` placeholder) gets the right form; others keep Django's.
    """
    phrase = getattr(cl.model_admin, "count_phrase", None)
    if phrase is None:
        opts = cl.opts
        name = opts.verbose_name if cl.result_count == 1 else opts.verbose_name_plural
        return f"{cl.result_count} {name}"
    return phrase % {"count": cl.result_count}
