"""Finish the deletions made before issue 12 (ADR 0013).

A bulk deletion used to remove only the numbers, answers and data keys; the register entry, filings,
status history, requests, rejection rows and request notes of the deleted persons stayed. This migration
erases them as a deletion run now does, limited — like a restore's re-application — to what existed at
each person's latest deletion (a person who came back since keeps what they brought). Numbers, answers
and keys were already gone. One slice of 1,000 persons at a time, historical models only.
"""

from collections import defaultdict

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

ERASED = {
    "household_no": "", "relationship": "", "housing_code": "", "application_no": "", "name": "", "name_kana": "",
    "kana_key": "", "birth_date": None, "sex": "", "postal_code": "", "address": "", "status_date": None,
    "non_disclosure": False, "non_disclosure_since": None,
}
SLICE = 1000


def _erase(apps, pks, refs, when, now):
    model = apps.get_model
    requests = {name: model(app, name).objects.filter(person_id__in=pks, created_at__lte=when)
                for app, name in (("linkage", "InquiryRequest"), ("juki", "JukiQuery"), ("linkage", "LinkageRequest"))}
    model("linkage", "InquiryResult").objects.filter(
        Q(person_id__in=pks, received_at__lte=when) | Q(request__in=requests["InquiryRequest"])).delete()
    model("juki", "JukiResult").objects.filter(
        Q(person_id__in=pks, received_at__lte=when) | Q(query__in=requests["JukiQuery"])).delete()
    model("linkage", "IntegratedNumber").objects.filter(
        Q(person_id__in=pks, linked_at__lte=when) | Q(request__in=requests["LinkageRequest"])).delete()
    for query in requests.values():
        query.delete()
    model("registry", "Filing").objects.filter(person_id__in=pks, updated_at__lte=when).delete()
    model("registry", "StatusChange").objects.filter(person_id__in=pks, recorded_at__lte=when).delete()
    jobs = model("jobs", "Job").objects.filter(created_at__lte=when).values("pk")
    model("registry", "ImportRejection").objects.filter(person_id__in=refs, job_id__in=jobs).delete()
    model("subjects", "SubjectRequest").objects.filter(person_id__in=pks, received_on__lte=timezone.localtime(when).date()).update(note="")
    model("registry", "Person").objects.filter(pk__in=pks, deleted_at__isnull=True, updated_at__lte=when).update(
        **ERASED, deleted_at=when, updated_at=now)


def erase_earlier(apps, schema_editor):
    latest = {}
    for pk, when in apps.get_model("retention", "DeletionRecord").objects.values_list("person_id", "executed_at"):
        latest[pk] = max(when, latest.get(pk, when))
    by_time = defaultdict(list)
    for pk, when in latest.items():
        by_time[when].append(pk)
    refs = dict(apps.get_model("registry", "Person").objects.filter(pk__in=list(latest)).values_list("pk", "person_id"))
    now = timezone.now()
    for when, pks in by_time.items():
        for start in range(0, len(pks), SLICE):
            part = pks[start:start + SLICE]
            _erase(apps, part, [refs[pk] for pk in part], when, now)


class Migration(migrations.Migration):

    dependencies = [
        ("retention", "0002_deletion_backup_expiry"),
        ("registry", "0003_deletion_erased_person"),
        ("linkage", "0003_dispatch"),
        ("juki", "0002_dispatch"),
        ("jobs", "0002_task_download"),
        ("subjects", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(erase_earlier, migrations.RunPython.noop),
    ]
