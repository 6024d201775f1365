import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField


class MedfrontUserManager(UserManager["User"]):
    """Users sign in by e-mail (or by phone through their patient profile); no usernames."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        email = self.normalize_email(email) if email else None
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


# django-stubs cannot type the reverse manager of portal.ApiToken (`auth_token_set`): its
# manager derives from django-rest-knox's, which ships no type information.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A login. Patients' names live in the encrypted Patient profile; first/last stay empty.

    `display_name` (encrypted) names staff members in the UI; `is_staff` keeps Django's meaning
    (may open the admin site), while workplace access comes from StaffMembership rows.
    """

    # Removing an inherited field with None is documented Django; the stubs allow only a str.
    username = None  # type: ignore[assignment]
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    # Optional (a patient may sign in by phone only); the stubs fix AbstractUser.email as str.
    email = models.EmailField(  # type: ignore[assignment]
        _("email address"), unique=True, null=True, blank=True
    )
    display_name = EncryptedCharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=8, blank=True, choices=[("ru", "Русский"), ("en", "English")]
    )
    is_demo = models.BooleanField(
        _("demo login"), default=False, help_text=_("A demo login created by seed_demo.")
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[MedfrontUserManager] = MedfrontUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.email or str(self.public_id)
