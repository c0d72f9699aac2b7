"""Check digits, verified against values computed by hand."""

from disburse.foundation.identifiers import (
    card_number_problem,
    credit_code_check_character,
    credit_code_problem,
    luhn_check_digit,
    resident_id_birth_date,
    resident_id_check_character,
    resident_id_problem,
    resident_id_sex,
    village_code_problem,
)


def test_resident_id_check_character_by_hand() -> None:
    # 11010519491231002: 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2
    # = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "10X98765432"[2] = X
    assert resident_id_check_character("11010519491231002") == "X"
    assert resident_id_problem("11010519491231002X") is None
    assert "check character" in resident_id_problem("110105194912310021")
    assert "calendar date" in resident_id_problem(_with_check("11010519490231002"))
    assert "18 characters" in resident_id_problem("1101051949123100")


def _with_check(first_seventeen: str) -> str:
    return first_seventeen + resident_id_check_character(first_seventeen)


def test_resident_id_birth_date_and_sex() -> None:
    import datetime as dt

    assert resident_id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert resident_id_sex("11010519491231002X") == "女"  # sequence 002 is even
    assert resident_id_sex(_with_check("61100219800101001")) == "男"


def test_credit_code_by_hand() -> None:
    # 91350100M000100Y4 with weights 3^i mod 31: 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28
    # values 9,1,3,5,0,1,0,0,M=21,0,0,0,1,0,0,Y=30,4 -> sum = 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112
    # = 1640; 1640 mod 31 = 28; 31-28 = 3 -> "3"
    assert credit_code_check_character("91350100M000100Y4") == "3"
    assert credit_code_problem("91350100M000100Y43") is None
    assert "check character" in credit_code_problem("91350100M000100Y44")
    assert credit_code_problem("91350100M000100Y4I") is not None  # I is not in the alphabet


def test_village_code() -> None:
    assert village_code_problem("611002001001") is None
    assert village_code_problem("61100200100") is not None
    assert village_code_problem("6110020010011") is not None


def test_luhn_by_hand() -> None:
    # 7992739871 -> check digit 3 (the textbook example)
    assert luhn_check_digit("7992739871") == "3"
    valid = "622848001234567" + luhn_check_digit("622848001234567")
    assert card_number_problem(valid) is None
    broken = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert "Luhn" in card_number_problem(broken)
    assert "passbook" in card_number_problem("12345678")
