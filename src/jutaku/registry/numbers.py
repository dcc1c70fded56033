"""Changing a registered My Number: the explicit change-notification path (個人番号変更届).

A bulk load never replaces a number (that is outcome ``E05``). A supervisor records a change, one
person at a time, with a reason; the new number is checked like any other (check digit, not another
person's), stored encrypted under the person's data key, and the change is audited with the old and
new provenance — never the numbers themselves. In the same transaction the person's integrated number is
marked for re-acquisition (:mod:`jutaku.linkage.reacquire`): the next linkage request asks again with the
new number, and no inquiry is made about the person until the answer arrives (``X08``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.crypto.blind_index import get_indexer
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import free_text, my_number
from jutaku.domain.wareki import jst_date
from jutaku.linkage import reacquire
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE


class NumberChangeRefused(Exception):
    """The change was refused; nothing changed. ``code`` follows the registration outcomes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code


@dataclass(frozen=True)
class NumberChange:
    person_id: str
    changed: bool  # False: the same number was already registered (I01)


def change_number(person_id: str, new_number: str, *, actor: Actor, reason: str, receipt_no: str = "",
                  id_document: str = "", today: date | None = None) -> NumberChange:
    """Replace the registered number of ``person_id`` (supervisor action with a reason)."""
    if not actor.can(Permission.NUMBERS_CHANGE):
        raise NumberChangeRefused("E00", "個人番号の変更には責任者の権限が必要です")
    if not reason.strip():
        raise NumberChangeRefused("E00", "変更理由を入力してください")
    for value, field in ((reason, "変更理由"), (receipt_no, "受付番号"), (id_document, "本人確認書類")):
        free_text.check(value, field, lambda message: NumberChangeRefused("E00", message))
    number = my_number.normalise(new_number)
    if not my_number.is_valid(number):
        raise NumberChangeRefused("E01", "新しい個人番号のチェックデジットまたは桁数が不正です")
    index = get_indexer().compute(number)
    with transaction.atomic():
        record_ = (MyNumberRecord.objects.select_for_update().select_related("person")
                   .filter(person__person_id=person_id).first())
        if record_ is None:
            if not Person.objects.filter(person_id=person_id).exists():
                raise NumberChangeRefused("E02", "個人IDが対象者に存在しません")
            raise NumberChangeRefused("E00", "個人番号が登録されていません（一括登録で登録してください）")
        owner = MyNumberRecord.objects.filter(blind_index=index).exclude(pk=record_.pk).exists()
        if owner:
            raise NumberChangeRefused("E04", "この個人番号は他の方に登録済みです")
        if bytes(record_.blind_index) == index:
            return NumberChange(person_id, changed=False)
        before = {"source": record_.source, "receipt_no_set": bool(record_.receipt_no)}
        record_.ciphertext = FieldCipher().encrypt(person_id, CIPHER_TABLE, CIPHER_COLUMN, number.encode("ascii"))
        record_.blind_index = index
        record_.source = MyNumberRecord.Source.CHANGE
        record_.receipt_no = receipt_no[:20]
        record_.id_document = id_document[:20]
        record_.received_date = today or jst_date(datetime.now(UTC))  # the day in Japan, as 受付日 always is
        record_.job_id = None
        record_.registered_at = datetime.now(UTC)
        record_.save()
        linkage = reacquire.mark(record_.person_id, now=record_.registered_at)
        record(AuditEvent.NUMBER_CHANGE, actor=actor, objects=[person_id],
               detail={"reason": reason.strip()[:500], "old_source": before["source"], "new_source": "change",
                       **linkage})
    return NumberChange(person_id, changed=True)
