"""Dispatches (ADR 0011): sending a request file is recorded once, on a dispatch, not on every request.

Existing requests get one dispatch per (create job, file sent, time sent); ``created`` and ``sent``
become ``open`` (sent or not is the dispatch's ``sent_at``).
"""

import django.db.models.deletion
from django.db import migrations, models


def to_dispatches(apps, schema_editor, model_name, kind):
    Dispatch = apps.get_model("linkage", "Dispatch")
    Request = apps.get_app_config(model_name[0]).get_model(model_name[1])
    groups = {}
    for r in Request.objects.order_by("id").iterator(chunk_size=5000):
        key = (r.created_job, r.sent_file_sha256, r.sent_at, getattr(r, "procedure_code", ""),
               getattr(r, "fiscal_year", None) if kind == "inquiry" else None)
        if key not in groups:
            groups[key] = Dispatch.objects.create(
                kind=kind, procedure_code=key[3], fiscal_year=key[4], created_at=r.created_at, created_job=key[0],
                sent_at=key[2], sent_file_sha256=key[1] if key[2] else "", sent_rows=0 if key[2] else None)
        d = groups[key]
        if d.sent_at is not None:
            d.sent_rows += 1
        Request.objects.filter(pk=r.pk).update(dispatch=d, state="open" if r.state in ("created", "sent") else r.state)
    for d in groups.values():
        d.save(update_fields=["sent_rows"])


def linkage_forward(apps, schema_editor):
    to_dispatches(apps, schema_editor, ("linkage", "LinkageRequest"), "linkage")
    to_dispatches(apps, schema_editor, ("linkage", "InquiryRequest"), "inquiry")


class Migration(migrations.Migration):

    dependencies = [
        ("linkage", "0002_inquiryrequest_inquiryresult_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="Dispatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("linkage", "統合利用番号取得要求"), ("inquiry", "情報照会要求"),
                                                   ("juki", "住基ネット照会")], max_length=10)),
                ("procedure_code", models.CharField(blank=True, max_length=16)),
                ("fiscal_year", models.IntegerField(null=True)),
                ("created_at", models.DateTimeField()),
                ("created_job", models.BigIntegerField(null=True)),
                ("sent_at", models.DateTimeField(null=True)),
                ("sent_file_sha256", models.CharField(blank=True, max_length=64)),
                ("sent_rows", models.IntegerField(null=True)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("kind__in", ["linkage", "inquiry", "juki"])),
                                           name="dispatch_kind_valid"),
                    models.CheckConstraint(condition=models.Q(("sent_at__isnull", True),
                                                              models.Q(("sent_file_sha256", ""), _negated=True),
                                                              _connector="OR"),
                                           name="dispatch_sent_has_file"),
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="linkagerequest", name="linkage_one_open_request_per_person"),
        migrations.RemoveConstraint(model_name="linkagerequest", name="linkage_request_state_valid"),
        migrations.RemoveIndex(model_name="linkagerequest", name="linkage_request_state"),
        migrations.RemoveConstraint(model_name="inquiryrequest", name="inquiry_once_per_filing_and_information"),
        migrations.RemoveConstraint(model_name="inquiryrequest", name="inquiry_request_state_valid"),
        migrations.RemoveIndex(model_name="inquiryrequest", name="inquiry_state_procedure"),
        migrations.AddField(
            model_name="linkagerequest", name="dispatch",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="linkage.dispatch"),
        ),
        migrations.AddField(
            model_name="inquiryrequest", name="dispatch",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="linkage.dispatch"),
        ),
        migrations.RunPython(linkage_forward, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="linkagerequest", name="dispatch",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="linkage.dispatch"),
        ),
        migrations.AlterField(
            model_name="inquiryrequest", name="dispatch",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="linkage.dispatch"),
        ),
        migrations.RemoveField(model_name="linkagerequest", name="sent_at"),
        migrations.RemoveField(model_name="linkagerequest", name="sent_file_sha256"),
        migrations.RemoveField(model_name="inquiryrequest", name="sent_at"),
        migrations.RemoveField(model_name="inquiryrequest", name="sent_file_sha256"),
        migrations.AlterField(
            model_name="linkagerequest", name="state",
            field=models.CharField(choices=[("open", "未回答"), ("answered", "取得済"), ("not_found", "該当なし"),
                                            ("error", "エラー")], max_length=10),
        ),
        migrations.AlterField(
            model_name="inquiryrequest", name="state",
            field=models.CharField(choices=[("open", "未回答"), ("answered", "回答済"), ("error", "エラー")],
                                   max_length=10),
        ),
        migrations.AddConstraint(
            model_name="linkagerequest",
            constraint=models.UniqueConstraint(condition=models.Q(("state", "open")), fields=("person",),
                                               name="linkage_one_open_request_per_person"),
        ),
        migrations.AddConstraint(
            model_name="linkagerequest",
            constraint=models.CheckConstraint(condition=models.Q(("state__in", ["open", "answered", "not_found", "error"])),
                                              name="linkage_request_state_valid"),
        ),
        migrations.AddIndex(model_name="linkagerequest",
                            index=models.Index(fields=["dispatch", "id"], name="linkage_request_dispatch")),
        migrations.AddConstraint(
            model_name="inquiryrequest",
            constraint=models.UniqueConstraint(condition=models.Q(("state__in", ["open", "answered"])),
                                               fields=("filing", "info_code"),
                                               name="inquiry_once_per_filing_and_information"),
        ),
        migrations.AddConstraint(
            model_name="inquiryrequest",
            constraint=models.CheckConstraint(condition=models.Q(("state__in", ["open", "answered", "error"])),
                                              name="inquiry_request_state_valid"),
        ),
        migrations.AddIndex(model_name="inquiryrequest",
                            index=models.Index(fields=["dispatch", "id"], name="inquiry_request_dispatch")),
    ]
