"""Fill ``Person.kanji_key`` for the persons held before the column existed (issue 14 item 10, ADR 0023).

Chunked: one transaction per 2,000 persons (the migration itself is not atomic), so a register of a
million persons is not one long transaction; run again after an interruption, it fills only the keys
still missing. Shells (削除済み) keep their blank key.
"""

from django.db import migrations

from jutaku.registry.search_keys import refresh_kanji_keys


def fill(apps, schema_editor):
    refresh_kanji_keys(apps.get_model("registry", "Person"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registry", "0005_person_search_keys"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
    ]
