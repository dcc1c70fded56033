"""Dispatches for Juki-net queries (ADR 0011): see linkage 0003."""

import django.db.models.deletion
from django.db import migrations, models


def forward(apps, schema_editor):
    Dispatch = apps.get_model("linkage", "Dispatch")
    JukiQuery = apps.get_model("juki", "JukiQuery")
    groups = {}
    for q in JukiQuery.objects.order_by("id").iterator(chunk_size=5000):
        key = (q.created_job, q.sent_file_sha256, q.sent_at)
        if key not in groups:
            groups[key] = Dispatch.objects.create(
                kind="juki", created_at=q.created_at, created_job=key[0], sent_at=key[2],
                sent_file_sha256=key[1] if key[2] else "", sent_rows=0 if key[2] else None)
        d = groups[key]
        if d.sent_at is not None:
            d.sent_rows += 1
        JukiQuery.objects.filter(pk=q.pk).update(dispatch=d, state="open" if q.state in ("created", "sent") else q.state)
    for d in groups.values():
        d.save(update_fields=["sent_rows"])


class Migration(migrations.Migration):

    dependencies = [
        ("juki", "0001_initial"),
        ("linkage", "0003_dispatch"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="jukiquery", name="juki_one_open_query_per_person"),
        migrations.RemoveConstraint(model_name="jukiquery", name="juki_query_state_valid"),
        migrations.RemoveIndex(model_name="jukiquery", name="juki_query_state"),
        migrations.AddField(
            model_name="jukiquery", name="dispatch",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="linkage.dispatch"),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="jukiquery", name="dispatch",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="linkage.dispatch"),
        ),
        migrations.RemoveField(model_name="jukiquery", name="sent_at"),
        migrations.RemoveField(model_name="jukiquery", name="sent_file_sha256"),
        migrations.AlterField(
            model_name="jukiquery", name="state",
            field=models.CharField(choices=[("open", "未回答"), ("answered", "回答済"), ("error", "エラー")],
                                   max_length=10),
        ),
        migrations.AddConstraint(
            model_name="jukiquery",
            constraint=models.UniqueConstraint(condition=models.Q(("state", "open")), fields=("person",),
                                               name="juki_one_open_query_per_person"),
        ),
        migrations.AddConstraint(
            model_name="jukiquery",
            constraint=models.CheckConstraint(condition=models.Q(("state__in", ["open", "answered", "error"])),
                                              name="juki_query_state_valid"),
        ),
        migrations.AddIndex(model_name="jukiquery",
                            index=models.Index(fields=["dispatch", "id"], name="juki_query_dispatch")),
    ]
