from django.urls import path

from crm import (
    views,
    views_assistant,
    views_campaigns,
    views_funnel,
    views_import,
    views_knowledge,
    views_merge,
    views_segments,
    views_tasks,
)

app_name = "crm"

urlpatterns = [
    # Public: the website enquiry form and the snippet that frames it.
    path("form/", views.lead_form, name="lead_form"),
    path("embed.js", views.embed_script, name="embed_script"),
    # The assistant's chat widget (anyone) and the operators' inbox of handed-over chats.
    path("assistant/", views_assistant.widget, name="assistant_widget"),
    path("inbox/", views_assistant.inbox_list, name="inbox"),
    path(
        "inbox/<uuid:public_id>/",
        views_assistant.inbox_conversation,
        name="inbox_conversation",
    ),
    path("inbox/<uuid:public_id>/close/", views_assistant.inbox_close, name="inbox_close"),
    # The marketer's leads.
    path("leads/", views.leads, name="leads"),
    path("leads/<uuid:public_id>/", views.lead, name="lead"),
    path("leads/<uuid:public_id>/tasks/", views_tasks.task_add, name="task_add"),
    path("leads/<uuid:public_id>/<slug:action>/", views.lead_action, name="lead_action"),
    # Tasks on leads: the owner's list, done and undone.
    path("tasks/", views_tasks.tasks, name="tasks"),
    path("tasks/<int:pk>/done/", views_tasks.task_done, name="task_done"),
    # Segments of patients, counted live.
    path("segments/", views_segments.segments, name="segments"),
    path("segments/count/", views_segments.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/delete/", views_segments.segment_remove, name="segment_remove"),
    # Retention campaigns to segments.
    path("campaigns/", views_campaigns.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views_campaigns.campaign, name="campaign"),
    path("campaigns/<int:pk>/send/", views_campaigns.campaign_send, name="campaign_send"),
    # The assistant's knowledge base, and its articles' public pages that answers cite.
    path("knowledge/", views_knowledge.knowledge, name="knowledge"),
    path(
        "knowledge/<uuid:public_id>/",
        views_knowledge.knowledge_article,
        name="knowledge_article",
    ),
    path(
        "knowledge/<uuid:public_id>/delete/",
        views_knowledge.knowledge_article_remove,
        name="knowledge_delete",
    ),
    path("help/<uuid:public_id>/", views_knowledge.help_article, name="help_article"),
    # The closed loop: the funnel with ad spend, and conversions for web analytics.
    path("funnel/", views_funnel.funnel, name="funnel"),
    path(
        "exports/offline-conversions.csv",
        views_funnel.offline_conversions_csv,
        name="offline_conversions",
    ),
    # Import of patients and visit history; duplicates and the merge screen.
    path("import/", views_import.imports, name="imports"),
    path("import/<uuid:public_id>/", views_import.import_job, name="import_job"),
    path(
        "import/<uuid:public_id>/progress/",
        views_import.import_progress,
        name="import_progress",
    ),
    path("duplicates/", views_merge.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/dismiss/", views_merge.duplicate_dismiss, name="duplicate_dismiss"),
    path("merge/<uuid:a>/<uuid:b>/", views_merge.merge, name="merge"),
]
