"""Guards of ADR 0014: SQLite ``INSERT OR REPLACE`` into audit_record refused; audit_head moves only with the
append path (UPDATE lands on the last record, INSERT only the genesis head of an empty trail, no DELETE or
TRUNCATE). Both vendors, through :mod:`jutaku.audit.triggers`."""

from django.db import migrations

from jutaku.audit import triggers


class Migration(migrations.Migration):  # type: ignore[misc]

    dependencies = (("audit", "0001_initial"),)

    operations = (
        migrations.RunPython(triggers.install_guards, triggers.uninstall_guards),
    )
