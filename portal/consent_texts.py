"""The published consent texts, one per purpose and language (ECOSYSTEM.md: no bundling).

Texts are versioned: a changed text is a new version, never an edit, so every signature keeps
pointing at the exact words signed. `ensure_consent_documents()` publishes whatever is missing
and is safe to call repeatedly (seed_demo and tests call it; a deployment may call it too).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from portal.choices import ConsentPurpose
from portal.models import ConsentDocument

VERSION = "1.0"

# purpose -> language -> (title, body). Plain language, short paragraphs; these are templates
# for the clinic's lawyer to adapt, not legal advice.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    ConsentPurpose.PERSONAL_DATA: {
        "ru": (
            "Согласие на обработку персональных данных для оказания медицинских услуг",
            "Я даю согласие медицинской организации сети Медфронт, в которую обращаюсь, "
            "на обработку моих персональных данных: фамилии, имени, отчества, даты рождения, "
            "пола, контактов, адреса, данных документов и полисов, а также сведений о "
            "состоянии здоровья.\n\n"
            "Цель — запись на приём, оказание медицинских услуг, ведение медицинской "
            "документации, расчёты и выдача документов. Действия: сбор, запись, хранение, "
            "уточнение, использование, передача в случаях, предусмотренных законом, "
            "обезличивание и уничтожение. Данные хранятся на серверах в России.\n\n"
            "Согласие действует до его отзыва. Я могу отозвать его в личном кабинете или "
            "в регистратуре. Медицинская документация хранится в сроки, установленные "
            "законом, и после отзыва.",
        ),
        "en": (
            "Consent to the processing of personal data for medical services",
            "I consent to the Medfront network clinic I attend processing my personal data: "
            "name, date of birth, sex, contact details, address, identity and insurance "
            "documents, and information about my health.\n\n"
            "Purpose: booking visits, providing medical services, keeping medical records, "
            "payments and issuing documents. Actions: collection, recording, storage, "
            "correction, use, transfer where the law requires it, anonymisation and "
            "deletion. The data is stored on servers in Russia.\n\n"
            "This consent is valid until I withdraw it. I can withdraw it in my account or at "
            "the front desk. Medical records are kept for the periods set by law, including "
            "after withdrawal.",
        ),
    },
    ConsentPurpose.SERVICE_NOTIFICATIONS: {
        "ru": (
            "Согласие на сервисные уведомления",
            "Даю согласие получать по SMS, электронной почте и в мессенджерах сообщения, "
            "связанные с моими обращениями: подтверждения и напоминания о записи, изменения "
            "расписания, готовность документов и результатов, коды подтверждения.\n\n"
            "Рекламу в таких сообщениях не отправляют. Я могу отказаться от уведомлений в "
            "личном кабинете или ответив STOP на SMS. Коды входа и подписания приходят "
            "и без этого согласия, так как без них нельзя воспользоваться кабинетом.",
        ),
        "en": (
            "Consent to service notifications",
            "I agree to receive messages about my own care by SMS, e-mail and messengers: "
            "booking confirmations and reminders, schedule changes, documents and results "
            "being ready, confirmation codes.\n\n"
            "These messages contain no advertising. I can opt out in my account or by "
            "replying STOP to an SMS. Sign-in and signing codes are still sent, because the "
            "account cannot be used without them.",
        ),
    },
    ConsentPurpose.ADVERTISING: {
        "ru": (
            "Согласие на получение рекламных сообщений",
            "Даю согласие получать от клиник сети Медфронт рекламные и информационные "
            "сообщения: об акциях, новых услугах, программах профилактики и скидках — по "
            "SMS, электронной почте и в мессенджерах.\n\n"
            "Согласие добровольное, от него не зависит оказание медицинских услуг. Я могу "
            "отозвать его в любой момент в личном кабинете, по ссылке в письме или ответив "
            "STOP на SMS; после отзыва рекламные сообщения прекращаются.",
        ),
        "en": (
            "Consent to advertising messages",
            "I agree to receive advertising and information messages from Medfront network "
            "clinics about offers, new services, check-up programmes and discounts, by SMS, "
            "e-mail and messengers.\n\n"
            "This consent is voluntary; medical care does not depend on it. I can withdraw it "
            "at any time in my account, through the link in an e-mail, or by replying STOP to "
            "an SMS; advertising stops after withdrawal.",
        ),
    },
    ConsentPurpose.THIRD_PARTY_TRANSFER: {
        "ru": (
            "Согласие на передачу персональных данных третьим лицам",
            "Я даю согласие на передачу моих персональных данных, необходимых для записи и "
            "оплаты, следующим получателям: сервисам онлайн-записи (агрегаторам), через "
            "которые я записываюсь; страховой компании по моему полису ДМС; лабораториям, "
            "выполняющим назначенные мне исследования.\n\n"
            "Передаются только данные, нужные для конкретной цели. Получатели обязаны "
            "сохранять их конфиденциальность. Согласие действует до отзыва; отзыв не "
            "затрагивает передачу, обязательную по закону.",
        ),
        "en": (
            "Consent to the transfer of personal data to third parties",
            "I consent to the transfer of the personal data needed for booking and payment to "
            "these recipients: online booking services (aggregators) through which I book; my "
            "insurer under my voluntary health insurance policy; laboratories performing tests "
            "ordered for me.\n\n"
            "Only the data needed for each purpose is transferred, and recipients must keep it "
            "confidential. This consent is valid until withdrawn; withdrawal does not affect "
            "transfers the law requires.",
        ),
    },
    ConsentPurpose.MEDICAL_INTERVENTION: {
        "ru": (
            "Информированное добровольное согласие на медицинское вмешательство",
            "Я даю информированное добровольное согласие на виды медицинских вмешательств, "
            "входящие в перечень для первичной медико-санитарной помощи: опрос, осмотр, "
            "антропометрию, измерение давления и температуры, инструментальные и "
            "лабораторные исследования, введение лекарственных препаратов по назначению "
            "врача.\n\n"
            "Врач объяснил мне цели, методы, возможные риски и альтернативы. Я могу "
            "отказаться от вмешательства или потребовать его прекращения, кроме случаев, "
            "предусмотренных законом. Для отдельных процедур оформляется отдельное согласие.",
        ),
        "en": (
            "Informed voluntary consent to medical intervention",
            "I give informed voluntary consent to the types of medical intervention on the "
            "list for primary health care: interview, examination, body measurements, blood "
            "pressure and temperature, instrumental and laboratory tests, and medicines given "
            "as prescribed by the doctor.\n\n"
            "The doctor has explained the aims, methods, possible risks and alternatives. I "
            "may refuse an intervention or ask for it to be stopped, except where the law "
            "says otherwise. Separate procedures need a separate consent.",
        ),
    },
    ConsentPurpose.COOKIES_ANALYTICS: {
        "ru": (
            "Согласие на использование cookie и аналитики",
            "Даю согласие на использование файлов cookie и обезличенной статистики посещений "
            "сайта и личного кабинета, чтобы клиники понимали, какие страницы удобны, и "
            "оценивали эффективность рекламы.\n\n"
            "Необходимые cookie (вход, язык, защита форм) работают и без этого согласия. "
            "Статистика обрабатывается на серверах в России, без сторонних счётчиков. "
            "Согласие можно отозвать в личном кабинете.",
        ),
        "en": (
            "Consent to cookies and analytics",
            "I agree to the use of cookies and anonymised visit statistics on the website and "
            "in my account, so the clinics can see which pages work well and measure their "
            "advertising.\n\n"
            "Essential cookies (sign-in, language, form protection) work without this consent. "
            "Statistics are processed on servers in Russia, with no third-party counters. I "
            "can withdraw this consent in my account.",
        ),
    },
}

# Consents without which the portal cannot serve the patient at all.
REQUIRED_PURPOSES = frozenset({ConsentPurpose.PERSONAL_DATA})


@transaction.atomic
def ensure_consent_documents() -> list[ConsentDocument]:
    """Publish every missing (purpose, version, language) text; return the ones created.

    Existing documents are never changed, even if the text above was edited: a new wording
    must get a new VERSION so earlier signatures keep their exact text.
    """
    created = []
    now = timezone.now()
    for purpose, languages in TEXTS.items():
        for language, (title, body) in languages.items():
            document, was_created = ConsentDocument.objects.get_or_create(
                purpose=purpose,
                version=VERSION,
                language=language,
                defaults={
                    "title": title,
                    "body": body,
                    "published_at": now,
                    "is_required": purpose in REQUIRED_PURPOSES,
                },
            )
            if was_created:
                created.append(document)
    return created
