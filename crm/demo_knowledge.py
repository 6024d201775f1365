"""The demo network's knowledge base: each clinic's address and hours, preparation for blood
tests and ultrasound, how to cancel or move a visit — in Russian and English — and the
articles drawn from the catalogue (preparation texts, the price list)."""

from __future__ import annotations

from crm.choices import KnowledgeKind
from crm.models import KnowledgeArticle
from crm.services.knowledge import (
    knowledge_article_create,
    knowledge_directions_text,
    knowledge_sync_catalogue,
)
from portal.demo import DemoContext

K = KnowledgeKind
# (kind, language, title, body)
NETWORK_ARTICLES = (
    (
        K.PREPARATION,
        "ru",
        "Подготовка к анализу крови",
        "Кровь сдают утром натощак: последний приём пищи — за 8–12 часов, пить можно только "
        "чистую негазированную воду. За сутки исключите алкоголь и жирную пищу, за час — "
        "курение. Если принимаете лекарства, предупредите медсестру до забора крови.",
    ),
    (
        K.PREPARATION,
        "en",
        "Preparing for a blood test",
        "Blood is taken in the morning on an empty stomach: eat nothing for 8–12 hours before, "
        "drink only still water. Avoid alcohol and fatty food for a day and do not smoke for "
        "an hour before. Tell the nurse about any medicines you take.",
    ),
    (
        K.PREPARATION,
        "ru",
        "Подготовка к УЗИ",
        "УЗИ органов брюшной полости делают натощак: не ешьте 6–8 часов, за двое суток "
        "исключите газированные напитки, бобовые и сырые овощи. Для УЗИ щитовидной железы "
        "подготовка не нужна. Возьмите с собой результаты прошлых исследований.",
    ),
    (
        K.PREPARATION,
        "en",
        "Preparing for an ultrasound",
        "An abdominal ultrasound is done on an empty stomach: do not eat for 6–8 hours and "
        "avoid fizzy drinks, beans and raw vegetables for two days before. A thyroid "
        "ultrasound needs no preparation. Bring the results of earlier scans.",
    ),
    (
        K.FAQ,
        "ru",
        "Как отменить или перенести запись",
        "Отменить или перенести визит можно в личном кабинете в разделе «Мои записи», "
        "попросить об этом ассистента в чате или позвонить в клинику. Пожалуйста, отменяйте "
        "запись не позднее чем за 2 часа до приёма, чтобы время смог занять другой пациент.",
    ),
    (
        K.FAQ,
        "en",
        "How to cancel or move a visit",
        "Cancel or move a visit in your account under “My visits”, ask the assistant in the "
        "chat, or call the clinic. Please cancel at least 2 hours before the visit so that "
        "another patient can take the time.",
    ),
    (
        K.FAQ,
        "ru",
        "Что взять с собой на приём",
        "Паспорт, полис ДМС (если есть) и результаты прошлых обследований. Для ребёнка — "
        "свидетельство о рождении; с ребёнком до 15 лет приходит родитель или законный "
        "представитель.",
    ),
    (
        K.FAQ,
        "en",
        "What to bring to a visit",
        "Your passport, the voluntary health insurance policy if you have one, and the results "
        "of earlier tests. A child under 15 comes with a parent or legal guardian.",
    ),
)


def seed(ctx: DemoContext) -> None:
    if KnowledgeArticle.objects.filter(source_key="").exists():
        ctx.log("crm: knowledge base already seeded")
        return
    for kind, language, title, body in NETWORK_ARTICLES:
        knowledge_article_create(
            actor=None, kind=kind, language=language, title=title, body=body, clinic=None
        )
    for clinic in ctx.clinics.values():
        for language in ("ru", "en"):
            title, body = knowledge_directions_text(clinic, language)
            knowledge_article_create(
                actor=None,
                kind=K.DIRECTIONS,
                language=language,
                title=title,
                body=body,
                clinic=clinic,
            )
    written = knowledge_sync_catalogue()
    ctx.log(
        f"crm: knowledge base, {len(NETWORK_ARTICLES)} articles and {written} from the catalogue"
    )
