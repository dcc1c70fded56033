"""Which interface a file is, from its first bytes, with the layouts as data (ADR 0028).

A file handed to the wrong import — a Juki-net answer to the inquiry-result import, a procedures extract
to the kit registration — is refused whole, and the refusal says what the file is. :func:`identify`
recognises, from the first :data:`SNIFF_BYTES` of a file (plaintext: an encrypted file is decrypted by
its caller first):

- a CSV whose first record is exactly the header of a layout of :data:`~jutaku.formats.layouts.LAYOUTS`
  or of the legal allow-list (``layout``), or nearly so (``like``: most column names shared with exactly
  one of them, as after an edit of the header);
- a ZIP archive (the Mynaportal download when its first entry is an ``.xml`` application), an encrypted
  media file (``JTKMEDIA``), a manifest (``<file>.manifest.json``), an empty file.

Nothing else is guessed: random bytes are ``layout=None, like=None``. Only the names of our own layouts
ever reach a message, never a byte of the file: a first record of data could hold a My Number.
"""

from __future__ import annotations

import csv
import json
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final, Literal

from jutaku.formats.layouts import LAYOUTS

SNIFF_BYTES: Final = 64 * 1024
#: :data:`jutaku.crypto.media.MAGIC` (``formats`` may not import ``crypto``; a test keeps them equal).
MEDIA_MAGIC: Final = b"JTKMEDIA"
ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
ALLOWLIST: Final = "allowlist"
PORTAL: Final = "portal"
_BOM: Final = b"\xef\xbb\xbf"
_LOCAL: Final = struct.Struct("<4s22xHH")  # local file header up to the name and extra lengths
#: Shared columns over all columns (Jaccard) from which a header is "like" a layout's.
LIKE_THRESHOLD: Final = 0.6

#: The import whose file answers each request file we write (a request handed back in place of its answer).
ANSWERS: Final[Mapping[str, str]] = MappingProxyType({
    "linkage-request": "linkage-result", "inquiry-request": "inquiry-result", "juki-request": "juki-result",
})

Kind = Literal["empty", "csv", "zip", "media", "manifest", "other"]


@dataclass(frozen=True)
class Identified:
    """What a file's first bytes say it is (see the module docstring)."""

    kind: Kind
    layout: str | None = None
    like: str | None = None

    @property
    def known(self) -> str | None:
        """The interface recognised, exactly or nearly; None when nothing is."""
        return self.layout or self.like


@cache
def headers() -> Mapping[tuple[str, ...], str]:
    """Every known header → its interface name (the layouts' and the allow-list's)."""
    from jutaku.formats.allowlist import HEADER as ALLOWLIST_HEADER

    known = {layout.header: name for name, layout in LAYOUTS.items() if name != PORTAL}
    known[ALLOWLIST_HEADER] = ALLOWLIST
    return MappingProxyType(known)


def title(name: str) -> str:
    """The Japanese name of an interface as messages give it."""
    if name == ALLOWLIST:
        return "許可リスト"
    if name == PORTAL:
        return "マイナポータル申請データ（ZIP）"
    return LAYOUTS[name].title


def first_record(head: bytes) -> tuple[str, ...] | None:
    """The cells of the first CSV record of ``head`` (UTF-8 with or without BOM, or CP932), or None."""
    line = head.split(b"\n", 1)[0].removeprefix(_BOM).removesuffix(b"\r")
    for encoding in ("utf-8", "cp932"):
        try:
            text = line.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    if not text or not text.isprintable():
        return None
    try:
        return tuple(next(csv.reader([text], strict=True)))
    except (csv.Error, StopIteration):
        return None


def _key(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip()


def _like(cells: Sequence[str]) -> str | None:
    """The one known header sharing most of its columns with ``cells`` (at least :data:`LIKE_THRESHOLD`)."""
    mine = {_key(c) for c in cells}
    scored = sorted(((len(mine & set(h)) / len(mine | set(h)), name) for h, name in headers().items()),
                    reverse=True)
    best, name = scored[0]
    if best < LIKE_THRESHOLD or (len(scored) > 1 and scored[1][0] == best):
        return None
    return name


def _zip(head: bytes) -> Identified:
    """A ZIP: the Mynaportal download when its first entry is an application (``<受付番号>.xml``)."""
    if head.startswith(b"PK\x03\x04") and len(head) >= _LOCAL.size:
        _sig, name_len, _extra = _LOCAL.unpack_from(head)
        name = head[_LOCAL.size:_LOCAL.size + name_len]
        if name.lower().endswith(b".xml") and b"/" not in name:
            return Identified("zip", PORTAL)
    return Identified("zip")


def _manifest(head: bytes) -> bool:
    try:
        data = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and {"interface", "sha256", "record_count"} <= set(data)


def identify(head: bytes) -> Identified:
    """What the first bytes of a file (at most :data:`SNIFF_BYTES` are looked at) say it is."""
    head = head[:SNIFF_BYTES]
    if not head.removeprefix(_BOM):
        return Identified("empty")
    if head.startswith(MEDIA_MAGIC):
        return Identified("media")
    if head.startswith(ZIP_MAGIC):
        return _zip(head)
    if head.lstrip().startswith(b"{") and _manifest(head):
        return Identified("manifest")
    cells = first_record(head)
    if cells is None:
        return Identified("other")
    exact = headers().get(cells)
    if exact is not None:
        return Identified("csv", exact)
    return Identified("csv", like=_like(cells))


def destination(name: str) -> str | None:
    """The import a file of interface ``name`` should go to: its own, or, for a request file we wrote, the
    import of its answer; None for the lists written for staff and the business export."""
    layout = LAYOUTS.get(name)
    if name == ALLOWLIST or (layout is not None and layout.direction == "import"):
        return name
    return ANSWERS.get(name)


def describe(found: Identified) -> str:
    """What the file is, in Japanese, from what :func:`identify` found (no byte of the file in it)."""
    if found.kind == "empty":
        return "ファイルが空です"
    if found.kind == "media":
        return "このファイルは暗号化された媒体ファイル（.enc）です"
    if found.kind == "manifest":
        return "このファイルはマニフェスト（.manifest.json）です"
    name = found.known
    if name is None:
        return "ZIP ファイルです" if found.kind == "zip" else "様式の分からないファイルです"
    layout = LAYOUTS.get(name)
    seems = "のようです（項目名の一部が様式と異なります）" if found.layout is None else "です"
    if layout is not None and layout.staff_facing:
        return f"このファイルは当システムが出力した「{title(name)}」（職員向けの一覧）{seems}"
    if layout is not None and layout.direction == "export":
        return f"このファイルは当システムが作成した「{title(name)}」（送付用のファイル）{seems}"
    return f"このファイルは「{title(name)}」のファイル{seems}"


def advice(found: Identified) -> str:
    """What to do with a file recognised as another interface's (channel-neutral; the CLI and the screens
    add the command or the form)."""
    if found.kind == "media":
        return "暗号化されたファイルは名前の末尾を「.enc」のままにして指定してください。"
    if found.kind == "manifest":
        return "マニフェストではなく、同じ名前の本体のファイル（.manifest.json を除いた名前）を指定してください。"
    name = found.known
    goes = destination(name) if name is not None else (PORTAL if found.kind == "zip" else None)
    if goes is None:
        return "取り込むファイルを指定してください。"
    if goes != name and name is not None:
        return f"相手方から届いた回答のファイル（「{title(goes)}」）を指定してください。"
    return f"「{title(goes)}」として取り込んでください。"


def header_difference(expected: Sequence[str], cells: Sequence[str]) -> str:
    """How a first record differs from the header ``expected``, in Japanese; only column names of the
    layout are named, never a cell of the file (it may be a row of data holding a My Number)."""
    wanted = set(expected)
    if tuple(_key(c) for c in cells) == tuple(expected):
        return "項目名に前後の空白か全角・半角の違いがあります"
    if not wanted & {_key(c) for c in cells}:
        return "1 行目に項目名がありません（データの行から始まっているか、別の種類のファイルです）"
    missing = [name for name in expected if name not in cells]
    extra = sum(1 for c in cells if c not in wanted)
    parts = []
    if missing:
        named = "".join(f"「{m}」" for m in missing[:3])
        more = f"ほか {len(missing) - 3} 項目" if len(missing) > 3 else ""
        parts.append(f"項目{named}{more}がありません")
    if extra:
        parts.append(f"様式にない項目が {extra} 個あります")
    if not parts:
        parts.append("同じ項目名が重複しています" if len(set(cells)) != len(cells) else "項目の順序が様式と異なります")
    return "、".join(parts)
