"""Deaths recorded from Juki-net before status sources existed become Juki-net's (issue 12 item 6).

A person whose status is 死亡 and who has a Juki-net answer ``D02`` (消除:死亡) gets ``status_source``
``juki``, and the status change that answer's import recorded gets ``source`` ``juki``: from now on a
later extract no longer undoes that death. A person whose Juki-net death an extract already undid (the
defect this fixes: a ``D02`` answer, status no longer 死亡) is left as the register holds them — a
migration changes no status without an audit record; the next Juki-net query about them records the
death again (``D02``), and from then on it stays.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef


def forward(apps, schema_editor):
    Person = apps.get_model("registry", "Person")
    StatusChange = apps.get_model("registry", "StatusChange")
    JukiResult = apps.get_model("juki", "JukiResult")
    deaths = JukiResult.objects.filter(outcome="D02")
    Person.objects.filter(status="4").filter(Exists(deaths.filter(person_id=OuterRef("pk")))).update(
        status_source="juki")
    StatusChange.objects.filter(new_status="4").filter(Exists(deaths.filter(
        person_id=OuterRef("person_id"), job_id=OuterRef("job_id")))).update(source="juki")


class Migration(migrations.Migration):

    dependencies = [
        ("juki", "0003_suspend_cancelled"),
        ("registry", "0004_dv_status_source_and_wishes"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
