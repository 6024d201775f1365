"""Adapters to external schedule systems (`base.Connector`), one module per system."""
