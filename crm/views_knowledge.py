"""The assistant's knowledge base: clinic admins keep their clinic's articles, network admins
the network's; anyone may read a published article the assistant cites."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.assistant.knowledge import knowledge_search
from crm.forms import KnowledgeArticleForm
from crm.models import KnowledgeArticle
from crm.permissions import (
    KNOWLEDGE,
    articles_visible_to,
    can_edit_article,
    get_article_for_user,
    require_knowledge_editor,
)
from crm.services.knowledge import (
    knowledge_article_create,
    knowledge_article_delete,
    knowledge_article_update,
)
from portal import permissions


def _form(request, data=None, instance=None) -> KnowledgeArticleForm:
    return KnowledgeArticleForm(
        data,
        instance=instance,
        clinics=permissions.clinics_with(request.user, KNOWLEDGE).order_by("name"),
        network_wide=permissions.clinic_ids_with(request.user, KNOWLEDGE) is None,
    )


@login_required
@require_http_methods(["GET", "POST"])
def knowledge(request):
    """The articles the editor may see, a question to try the search with, a new article."""
    require_knowledge_editor(request.user)
    form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        article = knowledge_article_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("The article is saved."))
        return redirect("crm:knowledge_article", public_id=article.public_id)
    question = request.GET.get("q", "").strip()[:300]
    language = (
        request.GET.get("language")
        if request.GET.get("language") in ("ru", "en")
        else ("en" if (request.LANGUAGE_CODE or "").startswith("en") else "ru")
    )
    hits = knowledge_search(query=question, language=language) if question else []
    articles = [
        (article, can_edit_article(request.user, article))
        for article in articles_visible_to(request.user).order_by("clinic__name", "kind", "title")
    ]
    context = {
        "articles": articles,
        "form": form,
        "question": question,
        "question_language": language,
        "hits": hits,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "crm/knowledge.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def knowledge_article(request, public_id):
    article = get_article_for_user(
        request.user, public_id, action="change" if request.method == "POST" else "view"
    )
    editable = can_edit_article(request.user, article)
    form = _form(request, request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        knowledge_article_update(article=article, actor=request.user, **form.cleaned_data)
        messages.success(request, _("The article is saved."))
        return redirect("crm:knowledge_article", public_id=article.public_id)
    status = 400 if request.method == "POST" else 200
    context = {"article": article, "form": form, "editable": editable}
    return render(request, "crm/knowledge_article.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def knowledge_article_remove(request, public_id):
    article = get_article_for_user(request.user, public_id, action="delete")
    knowledge_article_delete(article=article, actor=request.user)
    messages.success(request, _("The article is deleted."))
    return redirect("crm:knowledge")


@require_http_methods(["GET"])
def help_article(request, public_id):
    """A published article, public: the page the assistant's answers link to."""
    article = get_object_or_404(
        KnowledgeArticle.objects.select_related("clinic"), public_id=public_id, published=True
    )
    return render(request, "crm/help_article.html", {"article": article})
