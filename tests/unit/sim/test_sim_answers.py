"""The answer key's reference rules (jutaku.sim.answers.expected_outcomes) on hand-made cases."""

from __future__ import annotations

from jutaku.domain.my_number import from_body
from jutaku.sim.answers import TargetPerson, expected_outcomes, sim_kana_key

P1, P2, P3, P4 = "1000000001", "1000000002", "1000000003", "1000000004"
N1, N2, N3 = from_body("12345678901"), from_body("23456789012"), from_body("34567890123")
BAD_CHECK = N1[:-1] + str((int(N1[-1]) + 1) % 10)

TARGETS = {
    P1: TargetPerson("トエイ タロウ", "19700123", "1", "1"),
    P2: TargetPerson("サトウ ハナコ", "19800202", "2", "1"),
    P3: TargetPerson("スズキ イチロウ", "19500505", "1", "2"),  # moved out
    P4: TargetPerson("タナカ ヨウコ", "19600606", "2", "4"),  # deceased
}
IDENTITY = {pid: (t.kana, t.birth, t.sex) for pid, t in TARGETS.items()}


def kit(pid: str, number: str, **changes: str) -> dict[str, str]:
    kana, birth, sex = IDENTITY.get(pid, ("ミシ ラズ", "19900101", "1"))
    row = {"ファイル": "kit.csv", "受付番号": "K1", "個人ID": pid, "氏名": "氏 名", "氏名カナ": kana,
           "生年月日": birth, "性別": sex, "個人番号": number, "本人確認書類": "1", "受付日": "20260401"}
    row.update(changes)
    return row


def portal(pid: str, number: str, **changes: str) -> dict[str, str]:
    kana, birth, sex = IDENTITY.get(pid, ("ミシ ラズ", "19900101", "1"))
    row = {"ファイル": "portal.zip", "受付番号": "202600000001", "受付日時": "20260401093012123",
           "個人ID": pid, "氏名": "氏 名", "氏名カナ": kana, "生年月日": birth, "性別": sex, "個人番号": number}
    row.update(changes)
    return row


def outcomes(*rows: dict[str, str]) -> list[str]:
    return expected_outcomes(TARGETS, rows)


def test_a_clean_row_registers() -> None:
    assert outcomes(kit(P1, N1)) == ["OK"]
    assert outcomes(portal(P1, N1)) == ["OK"]


def test_e00_malformed_rows() -> None:
    assert outcomes(kit(P1, N1, 性別="3")) == ["E00"]
    assert outcomes(kit(P1, N1, 氏名カナ="")) == ["E00"]
    assert outcomes(kit(P1, N1, 生年月日="19701332")) == ["E00"]
    assert outcomes(kit(P1, N1, 生年月日="X450123")) == ["E00"]
    assert outcomes(kit(P1, N1, 受付日="20260231")) == ["E00"]
    assert outcomes(kit(P1, N1, 本人確認書類="4")) == ["E00"]
    assert outcomes(kit(P1, "")) == ["E00"]  # a missing number is a missing field
    assert outcomes(kit("10000001", N1)) == ["E00"]  # 個人ID of 8 digits
    assert outcomes(portal(P1, N1, 受付日時="20260401256199000")) == ["E00"]
    assert outcomes(kit(P1, N1, 氏名="=cmd")) == ["E00"]


def test_e01_number_invalid() -> None:
    assert outcomes(kit(P1, BAD_CHECK)) == ["E01"]
    assert outcomes(kit(P1, N1[:-1])) == ["E01"]
    assert outcomes(kit(P1, N1 + "0")) == ["E01"]
    assert outcomes(kit(P1, "O" + N1[1:])) == ["E01"]


def test_number_is_normalised_before_the_check() -> None:
    hyphens = f"{N1[:4]}-{N1[4:8]}-{N1[8:]}"
    fullwidth = N1.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert outcomes(kit(P1, hyphens), kit(P1, fullwidth)) == ["OK", "I01"]


def test_e02_unknown_person() -> None:
    assert outcomes(kit("9000000001", N1)) == ["E02"]


def test_e03_identity_mismatch() -> None:
    assert outcomes(kit(P1, N1, 氏名カナ="トエイ サロウ")) == ["E03"]
    assert outcomes(kit(P1, N1, 生年月日="19700124")) == ["E03"]
    assert outcomes(kit(P1, N1, 性別="2")) == ["E03"]


def test_benign_variants_are_the_same_person() -> None:
    rows = [
        kit(P1, N1, 氏名カナ="ﾄｴｲ ﾀﾛｳ"),
        kit(P1, N1, 氏名カナ="とえい たろう"),
        kit(P1, N1, 氏名カナ="トエイ\u3000タロウ"),
        kit(P1, N1, 氏名カナ="トエイ タロー"),
        kit(P1, N1, 生年月日="S450123"),
    ]
    assert outcomes(*rows) == ["OK", "I01", "I01", "I01", "I01"]


def test_e04_number_held_by_another_person() -> None:
    assert outcomes(kit(P1, N1), portal(P2, N1)) == ["OK", "E04"]


def test_e05_person_holds_another_number() -> None:
    assert outcomes(kit(P1, N1), portal(P1, N2)) == ["OK", "E05"]


def test_i01_same_number_again_in_a_later_file_or_the_same_file() -> None:
    assert outcomes(kit(P1, N1), portal(P1, N1)) == ["OK", "I01"]
    assert outcomes(kit(P1, N1), kit(P1, N1)) == ["OK", "I01"]


def test_e06_same_person_two_numbers_in_one_file_registers_neither() -> None:
    assert outcomes(kit(P1, N1), kit(P1, N2), portal(P1, N2)) == ["E06", "E06", "OK"]


def test_e06_one_number_two_persons_in_one_file() -> None:
    assert outcomes(kit(P1, N1), kit(P2, N1)) == ["E06", "E06"]


def test_e06_takes_in_an_exact_repeat_that_is_part_of_a_conflict() -> None:
    assert outcomes(kit(P1, N1), kit(P1, N1), kit(P1, N2)) == ["E06", "E06", "E06"]


def test_conflicts_count_only_identified_rows() -> None:
    assert outcomes(kit(P1, N1), kit(P2, N1, 性別="1")) == ["OK", "E03"]
    assert outcomes(kit(P1, N1), kit("9000000001", N1)) == ["OK", "E02"]


def test_conflicts_are_per_file() -> None:
    assert outcomes(kit(P1, N1), portal(P2, N1), portal(P2, N2)) == ["OK", "E04", "E06"]


def test_e07_not_current_and_not_registered() -> None:
    assert outcomes(kit(P3, N3), portal(P1, N3)) == ["E07", "OK"]
    assert outcomes(kit(P4, N3)) == ["E07"]


def test_precedence_lowest_code_wins() -> None:
    assert outcomes(kit("9000000001", BAD_CHECK, 性別="3")) == ["E00"]  # E00 < E01 < E02
    assert outcomes(kit("9000000001", BAD_CHECK)) == ["E01"]  # E01 < E02
    assert outcomes(kit(P3, N3, 性別="2")) == ["E03"]  # E03 < E07
    assert outcomes(kit(P1, N1), portal(P2, N1, 生年月日="19800203")) == ["OK", "E03"]  # E03 < E04
    # P1 holds N1 and N2 is held by P2: E04 < E05
    assert outcomes(kit(P1, N1), kit(P2, N2), portal(P1, N2)) == ["OK", "OK", "E04"]
    # E04 < E06: N1 is held by P1, and P2 sends N1 and N2 in the portal file
    assert outcomes(kit(P1, N1), portal(P2, N1), portal(P2, N2)) == ["OK", "E04", "E06"]
    # E05 < E06
    assert outcomes(kit(P1, N1), portal(P1, N2), portal(P1, N3)) == ["OK", "E05", "E05"]
    # E06 < E07
    assert outcomes(kit(P3, N3), kit(P1, N3)) == ["E06", "E06"]


def test_sim_kana_key() -> None:
    assert sim_kana_key("ｻﾄｳ ﾊﾅｺ") == sim_kana_key("さとう\u3000はなこ") == sim_kana_key("サトー ハナコ")
    assert sim_kana_key("サトウ") != sim_kana_key("サソウ")
