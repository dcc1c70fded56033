"""Every interface of ``interfaces.md`` (layout version 1), declared as data.

A real layout replaces one of these declarations without touching the code that reads or writes it:
readers, writers, validators and ``docs/formats/`` are all driven from :data:`LAYOUTS`.
Column names and codes are the exact contract of ``shared/spec/interfaces.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Final, Literal

ColumnType = Literal[
    "text",  # free text (names, addresses): no control characters; interchange imports refuse formula cells
    "kana",  # 氏名カナ: katakana/hiragana/width variants allowed, matched by the domain's key
    "digits",  # ASCII digits, exact width when ``width`` is set and ``exact``
    "code",  # one of ``codes``
    "date",  # YYYYMMDD
    "birth_date",  # YYYYMMDD or 和暦 GYYMMDD (imports)
    "timestamp",  # YYYYMMDDhhmmssSSS (JST)
    "my_number",  # 個人番号: normalised then checked by the domain; never echoed in errors
    "json",  # a JSON object
]

Direction = Literal["import", "export"]


def codes(items: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    required: bool = True
    width: int | None = None  # maximum length in characters; the exact length when ``exact``
    exact: bool = False
    codes: Mapping[str, str] | None = None
    description: str = ""
    #: ``(column, value)``: the cell is required only in rows where that other column holds that value
    #: (declare the column ``required=False``); elsewhere it may be empty.
    required_when: tuple[str, str] | None = None

    @property
    def refuses_my_number(self) -> bool:
        """A cell that could hold a written My Number and must not (ADR 0020): every text, kana and JSON
        column and every digits column that could be 12 digits long. Only a ``my_number`` column may hold
        one; codes, dates, timestamps and digits of another exact width cannot."""
        if self.type == "digits":
            return not (self.exact and self.width != 12) and (self.width is None or self.width >= 12)
        return self.type in ("text", "kana", "json")


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    direction: Direction
    columns: tuple[Column, ...]
    version: int = 1
    description: str = ""
    contains_my_number: bool = False
    staff_facing: bool = False  # staff-facing CSV: formula cells escaped on write
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @cached_property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


SEX: Final = codes({"0": "不明", "1": "男", "2": "女", "9": "適用不能"})
KUBUN: Final = codes({"1": "入居者", "2": "入居申込者"})
ZOKUGARA: Final = codes({"01": "世帯主/申込者本人", "02": "配偶者", "03": "子", "04": "父母", "05": "その他"})
HOUSING: Final = codes({"1": "公営住宅", "2": "改良住宅", "3": "特定公共賃貸住宅", "4": "条例住宅"})
STATUS: Final = codes({"1": "有効", "2": "退去", "3": "辞退・不合格", "4": "死亡"})
FLAG: Final = codes({"0": "なし", "1": "あり"})
ID_DOCUMENT: Final = codes(
    {
        "1": "個人番号カード",
        "2": "通知カード＋身元確認書類",
        "3": "番号記載の住民票の写し＋身元確認書類",
    }
)
LINKAGE_RESULT: Final = codes({"0": "正常", "1": "該当なし", "9": "エラー"})
INQUIRY_RESULT: Final = codes({"00": "該当あり", "01": "該当なし", "02": "未設定", "09": "エラー"})
JUKI_RESULT: Final = codes({"00": "該当", "01": "該当なし", "09": "エラー"})
JUKI_EXISTENCE: Final = codes({"1": "現存", "2": "消除"})
JUKI_CHANGE: Final = codes(
    {
        v: v
        for v in (
            "記載:転入",
            "記載:出生",
            "消除:転出",
            "消除:国外転出",
            "消除:死亡",
            "修正:転居",
            "修正:氏名変更",
            "修正:その他",
        )
    }
)
DELETION_REASON: Final = codes({"1": "退去", "2": "辞退・不合格", "3": "死亡", "4": "利用停止請求", "9": "その他"})
NON_DISCLOSURE: Final = codes({"1": "通常", "2": "不開示"})
REGISTRATION_OUTCOME: Final = codes(
    {
        "OK": "登録しました",
        "I01": "同一の個人番号が登録済みです（変更なし）",
        "E00": "項目の形式が不正です",
        "E01": "個人番号のチェックデジットまたは桁数が不正です",
        "E02": "個人IDが対象者に存在しません",
        "E03": "氏名カナ・生年月日・性別が対象者情報と一致しません",
        "E04": "この個人番号は他の方に登録済みです",
        "E05": "この方には別の個人番号が登録済みです",
        "E06": "ファイル内で重複しています",
        "E07": "対象者が有効な状態ではありません（退去・辞退・死亡）",
    }
)


def _person_id(name: str = "個人ID", required: bool = True) -> Column:
    return Column(name, "digits", required=required, width=10, exact=True, description="都住システムの個人ID (10桁)")


TARGETS = Layout(
    "targets",
    "都住システム 対象者抽出",
    "import",
    (
        _person_id(),
        Column("区分", "code", codes=KUBUN),
        Column("世帯番号", "digits", width=20),
        Column("続柄", "code", codes=ZOKUGARA),
        Column("住宅区分", "code", codes=HOUSING),
        Column("住宅コード", "text", required=False, width=20, required_when=("区分", "1"),
               description="empty for an applicant (区分 2), who has no dwelling yet"),
        Column("申込番号", "text", required=False, width=20),
        Column("氏名", "text", width=60),
        Column("氏名カナ", "kana", width=120),
        Column("生年月日", "birth_date"),
        Column("性別", "code", codes=SEX),
        Column("郵便番号", "digits", required=False, width=7, exact=True),
        Column("住所", "text", width=200),
        Column("状態", "code", codes=STATUS),
        Column("状態日付", "date", required=False),
    ),
    description="Residents and applicants; upsert by 個人ID. Persons with the same 世帯番号 are one household.",
)

PROCEDURES = Layout(
    "procedures",
    "都住システム 手続抽出",
    "import",
    (
        Column("受付番号", "text", width=20),
        Column("手続コード", "text", width=16, description="JT code from allowlist.csv"),
        Column("年度", "digits", width=4, exact=True),
        Column("受付日", "date"),
        _person_id("申請者個人ID"),
        _person_id("対象者個人ID"),
        Column("照会同意", "code", codes=FLAG),
        Column("不開示希望", "code", codes=FLAG),
    ),
    description="One row per (filing, person covered).",
)

KIT = Layout(
    "kit",
    "個人番号届出データ",
    "import",
    (
        Column("受付番号", "text", width=20),
        _person_id(),
        Column("氏名", "text", width=60),
        Column("氏名カナ", "kana", width=120),
        Column("生年月日", "birth_date"),
        Column("性別", "code", codes=SEX),
        Column("個人番号", "my_number"),
        Column("本人確認書類", "code", codes=ID_DOCUMENT),
        Column("受付日", "date"),
    ),
    contains_my_number=True,
    description="My Numbers collected by the collection contractor's kit.",
)

#: The portal download is a ZIP of XML files; these are the element paths read from each
#: ``<受付番号>.xml`` (relative to the root ``申請データ``) and the column they map to.
PORTAL = Layout(
    "portal",
    "マイナポータル申請管理 個人番号届出 (LoGo form)",
    "import",
    (
        Column("受付番号", "digits", width=20),
        Column("受付日時", "timestamp"),
        Column("手続名", "text", required=False, width=100),
        _person_id(),
        Column("氏名", "text", width=60),
        Column("氏名カナ", "kana", width=120),
        Column("生年月日", "birth_date"),
        Column("性別", "code", codes=SEX),
        Column("住所", "text", required=False, width=200),
        Column("個人番号", "my_number"),
        Column("本人確認方法", "text", required=False, width=20),
        Column("電子証明書シリアル番号", "text", required=False, width=64),
        Column("照会同意", "code", required=False, codes=FLAG,
               description="the person's consent, recorded with 受付番号 and 受付日時; counts from an OK/I01 application"),
        Column("不開示希望", "code", required=False, codes=FLAG,
               description="1 sets the person's sticky non-disclosure flag whenever the application identifies its person"),
    ),
    contains_my_number=True,
    extra=MappingProxyType(
        {
            "root": "申請データ",
            "受付番号": "受付番号",
            "受付日時": "受付日時",
            "手続名": "手続名",
            "個人ID": "申請者/個人ID",
            "氏名": "申請者/氏名",
            "氏名カナ": "申請者/氏名カナ",
            "生年月日": "申請者/生年月日",
            "性別": "申請者/性別",
            "住所": "申請者/住所",
            "個人番号": "個人番号",
            "本人確認方法": "本人確認/方法",
            "電子証明書シリアル番号": "本人確認/電子証明書シリアル番号",
            "照会同意": "照会同意",
            "不開示希望": "不開示希望",
        }
    ),
    description="A ZIP with one XML file per application, <受付番号>.xml, and optional attachments.",
)

LINKAGE_RESULT_LAYOUT = Layout(
    "linkage-result",
    "団体内統合利用番号 取得結果",
    "import",
    (
        Column("要求番号", "text", width=30),
        _person_id("個別業務システム利用番号"),
        Column("団体内統合利用番号", "digits", required=False, width=15, exact=True),
        Column("結果コード", "code", codes=LINKAGE_RESULT),
        Column("エラー内容", "text", required=False, width=200),
    ),
)

INQUIRY_RESULT_LAYOUT = Layout(
    "inquiry-result",
    "情報照会結果",
    "import",
    (
        Column("要求番号", "text", width=30),
        Column("団体内統合利用番号", "digits", width=15, exact=True),
        Column("特定個人情報名コード", "text", width=16),
        Column("結果コード", "code", codes=INQUIRY_RESULT),
        Column("未設定事由", "text", required=False, width=200),
        Column("結果データ", "json", required=False),
    ),
)

JUKI_RESULT_LAYOUT = Layout(
    "juki-result",
    "住基ネット 本人確認情報 照会結果",
    "import",
    (
        Column("照会番号", "text", width=30),
        Column("処理結果", "code", codes=JUKI_RESULT),
        Column("住民票コード", "digits", required=False, width=11, exact=True),
        Column("個人番号", "my_number", required=False),
        Column("氏名", "text", required=False, width=60),
        Column("氏名カナ", "kana", required=False, width=120),
        Column("生年月日", "birth_date", required=False),
        Column("性別", "code", required=False, codes=SEX),
        Column("住所", "text", required=False, width=200),
        Column("異動事由", "code", required=False, codes=JUKI_CHANGE),
        Column("異動年月日", "date", required=False),
        Column("現存区分", "code", required=False, codes=JUKI_EXISTENCE),
    ),
    contains_my_number=True,
)

DELETION_TARGETS = Layout(
    "deletion-targets",
    "削除対象者リスト",
    "import",
    (_person_id(), Column("削除理由", "code", codes=DELETION_REASON)),
)

LINKAGE_REQUEST = Layout(
    "linkage-request",
    "統合利用番号取得要求",
    "export",
    (
        Column("要求番号", "text", width=30),
        _person_id("個別業務システム利用番号"),
        Column("個人番号", "my_number"),
        Column("処理区分", "code", codes=codes({"1": "取得"})),
    ),
    contains_my_number=True,
)

INQUIRY_REQUEST = Layout(
    "inquiry-request",
    "情報照会要求",
    "export",
    (
        Column("要求番号", "text", width=30),
        _person_id("個別業務システム利用番号"),
        Column("団体内統合利用番号", "digits", width=15, exact=True),
        Column("照会依頼日時", "timestamp"),
        Column("部署コード", "text", width=20),
        Column("ユーザーID", "text", width=30),
        Column("照会者機関コード", "text", width=20),
        Column("不開示コード", "code", codes=NON_DISCLOSURE),
        Column("事務コード", "text", width=16, description="JM99000000000053 placeholder"),
        Column("事務手続コード", "text", width=16),
        Column("提供者機関コード", "text", width=20),
        Column("特定個人情報名コード", "text", width=16),
        Column("照会年度", "digits", width=4, exact=True),
        Column("照会開始日付", "date"),
        Column("照会終了日付", "date"),
    ),
)

JUKI_REQUEST = Layout(
    "juki-request",
    "住基ネット照会",
    "export",
    (
        Column("照会番号", "text", width=30),
        Column("検索区分", "code", codes=codes({"1": "個人番号"})),
        Column("個人番号", "my_number"),
        Column("氏名", "text", width=60),
        Column("氏名カナ", "kana", width=120),
        Column("生年月日", "date"),
        Column("性別", "code", codes=SEX),
        Column("住所", "text", width=200),
    ),
    contains_my_number=True,
)

BUSINESS_EXPORT = Layout(
    "business-export",
    "都住システム連携",
    "export",
    (
        _person_id(),
        Column("受付番号", "text", width=20),
        Column("手続コード", "text", width=16),
        Column("特定個人情報名コード", "text", width=16),
        Column("結果コード", "code", codes=INQUIRY_RESULT),
        Column("結果データ", "json", required=False),
        Column("相違フラグ", "code", codes=FLAG),
        Column("相違内容", "text", required=False, width=400),
        Column("取得日", "date"),
    ),
    description="Never contains a My Number or an integrated number.",
)

REJECTIONS = Layout(
    "rejections",
    "差戻リスト",
    "export",
    (
        Column("行番号", "digits"),
        Column("受付番号", "text", required=False),
        _person_id(required=False),
        Column("結果コード", "code", codes=REGISTRATION_OUTCOME),
        Column("理由", "text"),
    ),
    staff_facing=True,
    description="Never contains a My Number.",
)

DELETION_REPORT = Layout(
    "deletion-report",
    "削除記録",
    "export",
    (
        Column("削除番号", "text"),
        Column("実行日時", "timestamp"),
        Column("依頼者", "text"),
        Column("承認者", "text"),
        _person_id(),
        Column("削除理由", "code", codes=DELETION_REASON),
        Column("削除項目", "text"),
        Column("方法", "text"),
    ),
    staff_facing=True,
    description="Never contains a My Number nor any personal content. The day by which the last backup holding "
                "the deleted persons expires is not a column (this layout is a contract): the 削除 screen and "
                "`jutaku delete run` show it (ADR 0013).",
)

NOTICE_LIST = Layout(
    "notice-list",
    "届出勧奨リスト",
    "export",
    (
        _person_id(),
        Column("氏名", "text", width=60),
        Column("受付番号", "text", required=False),
        Column("手続コード", "text", width=16),
        Column("特定個人情報名コード", "text", width=16),
        Column("相違内容", "text", width=400),
        Column("取得日", "date"),
    ),
    staff_facing=True,
    description="Ours (not in interfaces.md): persons whose inquiry or Juki-net answers disagree with the register, "
                "or whose targets row disagrees with a death recorded from Juki-net (手続コード TARGETS, 相違内容 "
                "starting S01), to be asked to file a notification or checked. Never contains a My Number or an "
                "integrated number.",
)

STATISTICS = Layout(
    "statistics",
    "統計（個人を特定しない集計）",
    "export",
    (
        Column("表", "text", width=100),
        Column("行", "text", width=100),
        Column("列", "text", width=100),
        Column("値", "text", width=20, description="件数、10未満は <10、相補秘匿は x"),
    ),
    staff_facing=True,
    description="Ours (not in interfaces.md): counts only, with small-cell and complementary suppression.",
)

LAYOUTS: Final[Mapping[str, Layout]] = MappingProxyType(
    {
        layout.name: layout
        for layout in (
            TARGETS,
            PROCEDURES,
            KIT,
            PORTAL,
            LINKAGE_RESULT_LAYOUT,
            INQUIRY_RESULT_LAYOUT,
            JUKI_RESULT_LAYOUT,
            DELETION_TARGETS,
            LINKAGE_REQUEST,
            INQUIRY_REQUEST,
            JUKI_REQUEST,
            BUSINESS_EXPORT,
            REJECTIONS,
            DELETION_REPORT,
            NOTICE_LIST,
            STATISTICS,
        )
    }
)


def get(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown interface {name!r}; known: {', '.join(LAYOUTS)}") from None
