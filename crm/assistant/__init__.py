"""The assistant: conversations that answer patients around the clock (issue #18).

`understanding` turns a message into an intent and entities; `engine` keeps the dialogue and
calls `tools`, which do everything through the existing services with the caller's own
permissions; `knowledge` finds articles that answer questions.
"""
