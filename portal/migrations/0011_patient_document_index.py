"""A blind index of the ID document number, so the desk finds a patient by passport number
(`portal.models.patients.document_index`); computed here for the profiles stored before."""

from django.db import migrations, models


def index_documents(apps, schema_editor):
    from portal.services.blind_indexes import blind_indexes_refresh

    blind_indexes_refresh(model=apps.get_model("portal", "Patient"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0010_verbose_names")]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="document_bidx",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=64,
                verbose_name="document number search index",
            ),
        ),
        migrations.RunPython(index_documents, migrations.RunPython.noop),
    ]
