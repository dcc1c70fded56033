"""A password set by an administrator must be changed at the first sign-in (issue 14 item 14).

Existing accounts are not flagged: their passwords are whatever they are today, and forcing every user to
change at once on an upgrade is a decision for the security administrator (``jutaku users reset-password``).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_cliid'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='password_must_change',
            field=models.BooleanField(default=False),
        ),
    ]
