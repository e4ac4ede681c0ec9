"""Synthetic citizen ID cards (CCCD) for tests: the QR text of people who do not exist."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, replace

# Every letter with a Vietnamese diacritic (tones on every vowel, ă â ê ô ơ ư, đ), both cases.
VIETNAMESE_LETTERS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
ALL_DIACRITICS_NAMES = (
    "Đặng Thị Ảnh Ẩn Ấu Ẫu Ập",
    "Nguyễn Văn Ằng Ắc Ẳn Ẵn Ặt",
    "Lê Thị Ềm Ếch Ểu Ễnh Ệt Ẻo Ẽo Ẹo Èo Éo",
    "Trần Ìn Ín Ỉn Ĩn Ịn",
    "Phạm Òa Óa Ỏa Õa Ọa Ồng Ống Ổng Ỗng Ộng",
    "Hoàng Ờn Ớn Ởn Ỡn Ợn",
    "Vũ Ùng Úng Ủng Ũng Ụng Ừng Ứng Ửng Ững Ựng",
    "Võ Ỳ Ý Ỷ Ỹ Ỵ Ưa Ơi Âu Ăn Êm Ôm",
    "lò thị " + VIETNAMESE_LETTERS,
    ("LÒ " + VIETNAMESE_LETTERS).upper(),
)


@dataclass(frozen=True)
class Card:
    """One person's card; `text` is what the QR holds (and what a scanner types)."""

    birth: dt.date
    name: str = "Nguyễn Thị Hồng Nhung"
    province: str = "010"  # Lào Cai
    old_id: str = ""
    sex: str = "Nữ"
    address: str = "Tổ 5, Phường Duyên Hải, Thành phố Lào Cai, Tỉnh Lào Cai"
    issued: dt.date = dt.date(2021, 6, 15)
    tail: str = "583921"

    @property
    def number(self) -> str:
        female = 1 if self.sex.casefold() in ("nữ", "nu") else 0
        century = (self.birth.year // 100 - 19) * 2 + female
        return f"{self.province}{century}{self.birth.year % 100:02d}{self.tail}"

    @property
    def birth_text(self) -> str:
        return self.birth.strftime("%d%m%Y")

    @property
    def text(self) -> str:
        issued = max(self.issued, self.birth).strftime("%d%m%Y")
        return "|".join(
            [self.number, self.old_id, self.name, self.birth_text, self.sex, self.address, issued]
        )

    def but(self, **changes: object) -> Card:
        return replace(self, **changes)  # type: ignore[arg-type]

    def forms(self) -> set[str]:
        """Every field in every form a leak could take: raw, NFC, NFD, ISO date, no diacritics,
        upper and lower case; fields too short to be telling (the sex) are left out."""
        fields = {self.number, self.name, self.birth_text, self.address}
        fields.add(self.birth.isoformat())
        fields.add(self.birth.strftime("%d/%m/%Y"))
        fields.add(max(self.issued, self.birth).strftime("%d%m%Y"))
        if self.old_id:
            fields.add(self.old_id)
        out: set[str] = set()
        for field in fields:
            for form in (field, *(unicodedata.normalize(f, field) for f in ("NFC", "NFD"))):
                out.update({form, form.upper(), form.lower(), strip_diacritics(form)})
        # Parts of the address and the name are telling too (a commune, a given name).
        for part in self.address.split(","):
            if len(part.strip()) >= 8:
                out.add(part.strip())
                out.add(strip_diacritics(part.strip()))
        return {form for form in out if form}


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
