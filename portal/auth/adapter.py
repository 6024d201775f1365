from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Medfront's allauth adapter (phone login, outbox delivery, lockout hook in)."""
