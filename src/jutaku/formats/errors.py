"""Error codes of the file interfaces (``shared/spec/interfaces.md``).

Two levels, as in GOV.UK Notify's CSV handling: a :class:`FileRejected` rejects the whole file (nothing
from it may be applied), a :class:`FieldError` marks one cell of one row and the rest of the file still
loads. Messages are Japanese and English and never contain a cell value, so a 個人番号 can never reach
a message, a log line or a rejection list through them.

A file refusal says what happened and what to do, Japanese first (ADR 0028): its code's sentence, or a
more precise one (``what``: the line, the file's path as the user gave it, the form the file belongs to),
then the code's advice (:data:`FILE_HINTS`, or ``hint``), then the English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

#: File-level rejection codes -> (Japanese, English).
FILE_CODES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "R_ENCODING": ("文字コードが不正です", "invalid bytes for the file's encoding"),
        "R_HEADER": ("ヘッダ行が様式の項目名と一致しません", "header does not equal the layout's columns"),
        "R_EMPTY": ("ファイルが空です", "the file is empty"),
        "R_NOT_FOUND": ("ファイルが見つかりません", "no such file"),
        "R_UNREADABLE": ("ファイルを読み取る権限がありません", "the file cannot be read (permission)"),
        "R_NOT_FILE": ("通常のファイルではありません（デバイス・パイプ・フォルダ等）",
                       "not a regular file (a device, pipe or folder)"),
        "R_SIZE": ("ファイルサイズが上限を超えています", "file size over the limit"),
        "R_ROWS": ("行数が上限を超えています", "row count over the limit"),
        "R_MANIFEST": ("マニフェストが不正です", "manifest missing, malformed or for another interface"),
        "R_MANIFEST_COUNT": ("件数がマニフェストと一致しません", "record count differs from the manifest"),
        "R_MANIFEST_HASH": ("ハッシュ値がマニフェストと一致しません", "SHA-256 differs from the manifest"),
        "R_CSV": ("CSVの構造が不正です", "malformed CSV structure"),
        "R_ZIP": ("ZIPファイルが不正または危険です", "malformed or unsafe ZIP archive"),
        "R_XML": ("XMLが不正または危険です", "malformed or unsafe XML"),
        "R_ALLOWLIST": ("許可リストの行が不正です（全体を取込みません）", "an allow-list row is invalid (nothing loaded)"),
    }
)

#: What to do about each file-level refusal (Japanese; a refusal may give a more precise one).
FILE_HINTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "R_ENCODING": "ファイル全体を UTF-8（BOM 可）または CP932（Shift_JIS）のどちらか一つで保存し直してから、もう一度取り込んでください。",
        "R_HEADER": "1 行目（項目名の行）が取込先の様式のとおりか、取込先を確認してください。",
        "R_EMPTY": "中身のあるファイルを指定してください（書き出しに失敗していないか、作成元に確認してください）。",
        "R_NOT_FOUND": "パスを確認してください。",
        "R_UNREADABLE": "ファイルの読み取り権限を確認するか、読み取れる場所にコピーしてから指定してください。",
        "R_NOT_FILE": "取り込むファイルそのもののパスを指定してください。",
        "R_SIZE": "ファイルを分けて取り込んでください。",
        "R_ROWS": "ファイルを分けて取り込んでください。",
        "R_MANIFEST": "ファイルと同じ場所にある <ファイル名>.manifest.json が、このファイルのものか確認してください。",
        "R_MANIFEST_COUNT": "ファイルが途中で切れています。作成元から受け取り直してください。",
        "R_MANIFEST_HASH": "ファイルが壊れているか書き換えられています。作成元から受け取り直してください。",
        "R_CSV": "引用符（\"）の対応や改行を確認し、作成元から受け取ったままのファイルを指定してください。",
        "R_ZIP": "マイナポータルからダウンロードしたままの ZIP ファイルを指定してください。",
        "R_XML": "マイナポータルからダウンロードしたままの ZIP ファイルを指定してください。",
        "R_ALLOWLIST": "許可リストの該当行を直してから、もう一度読み込んでください（何も変更していません）。",
    }
)

#: Row-level field error codes -> (Japanese, English).
FIELD_CODES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "F_REQUIRED": ("必須項目が空です", "required field is empty"),
        "F_WIDTH": ("桁数（文字数）が不正です", "field length out of range"),
        "F_DIGITS": ("半角数字以外が含まれています", "ASCII digits expected"),
        "F_CODE": ("コード値が不正です", "not one of the allowed codes"),
        "F_DATE": ("日付・日時が不正です", "invalid date or timestamp"),
        "F_CHARS": ("使用できない文字（制御文字・外字）が含まれています", "control or private-use characters"),
        "F_FORMULA": ("先頭に使用できない文字（= + - @ 等）があります", "cell starts with a formula character"),
        "F_JSON": ("JSONオブジェクトではありません", "not a JSON object"),
        "F_MY_NUMBER": ("個人番号と同じ形の番号が含まれています（この項目には書けません）",
                        "holds a number shaped like a My Number (not allowed in this field)"),
        "F_COLUMNS": ("項目数が様式と一致しません", "wrong number of cells in the row"),
        "F_ELEMENT": ("XML要素が重複しているか子要素を含みます", "XML element repeated or not a simple value"),
        "F_ENTRY_NAME": ("ファイル名が受付番号と一致しません", "entry file name differs from 受付番号"),
    }
)

#: Registration outcome for any row with a field error (``interfaces.md``, registration outcomes).
MALFORMED_OUTCOME: Final = "E00"


class FileRejected(Exception):
    """The whole file is rejected; nothing from it may be applied.

    ``detail`` (English) is for locating the problem (a line number, an entry ordinal) and must never carry
    a cell value. ``what`` replaces the code's Japanese sentence with a more precise one and ``hint`` its
    advice; neither may carry a cell value either. ``line`` is the record (header = 1) a refusal is about;
    ``belongs_to`` the interface (a :data:`jutaku.formats.layouts.LAYOUTS` name, ``allowlist``) the file
    was recognised as when it is not the one expected: a channel (CLI, screen) adds where that one goes.
    """

    def __init__(self, code: str, detail: str = "", *, what: str = "", hint: str = "", line: int | None = None,
                 belongs_to: str | None = None) -> None:
        if code not in FILE_CODES:
            raise ValueError(f"unknown file rejection code {code!r}")
        self.code: str = code
        self.detail: str = detail
        ja, en = FILE_CODES[code]
        self.message_ja = what or ja
        self.message_en = en
        self.hint_ja = hint or FILE_HINTS.get(code, "")
        self.line = line
        self.belongs_to = belongs_to
        super().__init__(str(self))

    def __str__(self) -> str:
        suffix = f" ({self.detail})" if self.detail else ""
        return f"[{self.code}] {self.message_ja}。{self.hint_ja} / {self.message_en}{suffix}"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad cell: the column name, a ``F_*`` code and a message without the cell's value."""

    column: str
    code: str
    message: str

    @property
    def label(self) -> str:
        """The column as a rejection reason names it; a cell refused for a My Number says so (ADR 0020)."""
        return f"{self.column}：個人番号と同じ形の番号" if self.code == "F_MY_NUMBER" else self.column

    @classmethod
    def of(cls, column: str, code: str, hint: str = "") -> FieldError:
        ja, en = FIELD_CODES[code]
        extra = f" [{hint}]" if hint else ""
        return cls(column, code, f"{column}: {ja} / {en}{extra}")


def registration_outcome(errors: Iterable[FieldError]) -> str | None:
    """``E00`` when the row has any field error, else ``None`` (the registry decides the rest)."""
    for _ in errors:
        return MALFORMED_OUTCOME
    return None
