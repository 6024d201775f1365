"""The assistant's language understanding and knowledge base (issue #18).

`understanding.understand()` turns a patient's message into an intent and entities;
`knowledge.knowledge_search()` finds the articles that answer it. Neither writes anything.
"""
