"""Hostile spreadsheets are refused before the reader sees them, with a French reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from symbiose.ingest import read_table
from symbiose.xlsx_guard import Limits, UnsafeSpreadsheet, column_number, inspect_xlsx, read_xlsx_isolated

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="flux" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def workbook(rows_xml: str, *, filler: int = 0) -> bytes:
    """A minimal XLSX whose only sheet holds ``rows_xml`` (and ``filler`` bytes of one inline string)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?>'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            sheet.write(rows_xml.encode())
            if filler:
                sheet.write(b'<row r="3"><c r="A3" t="inlineStr"><is><t>')
                block = b"A" * (1 << 20)
                for _ in range(filler // len(block)):
                    sheet.write(block)
                sheet.write(b"</t></is></c></row>")
            sheet.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


GOOD = f'<row r="1">{_cell("A1", "company_id")}{_cell("B1", "quantite")}</row><row r="2">{_cell("A2", "C1")}{_cell("B2", "12")}</row>'


def test_column_letters() -> None:
    assert [column_number(c) for c in ("A", "Z", "AA", "AAA", "XFD")] == [1, 26, 27, 703, 16384]


def test_a_plain_workbook_is_read_in_the_child_process() -> None:
    rows, merged = read_xlsx_isolated(workbook(GOOD))
    assert rows == [["company_id", "quantite"], ["C1", "12"]]
    assert merged == []


@pytest.mark.parametrize("far", ["XFD1048576", "AAA100000", "A900000"])
def test_one_far_away_cell_is_refused_before_parsing(far: str) -> None:
    data = workbook(GOOD + f'<row r="{far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">{_cell(far, "x")}</row>')
    assert len(data) < 4000  # a tiny file...
    with pytest.raises(UnsafeSpreadsheet, match=far):  # ...refused by name, in French
        inspect_xlsx(data)
    rows, issues = read_table(data, "piege.xlsx")
    assert rows == [] and len(issues) == 1
    assert issues[0].column == "file" and "fichier refusé" in issues[0].message and far in issues[0].message


def test_a_decompression_bomb_is_stopped_at_the_inflation_cap() -> None:
    data = workbook(GOOD, filler=24 << 20)  # 24 MiB of one letter deflates to a few dozen KiB
    assert len(data) < 200_000
    with pytest.raises(UnsafeSpreadsheet, match="décompresse"):
        inspect_xlsx(data, Limits(max_inflated_bytes=8 << 20))
    with pytest.raises(UnsafeSpreadsheet, match="décompresse plus de"):  # the ratio check, at the default cap
        inspect_xlsx(data)


def test_the_child_is_killed_not_the_caller_when_memory_runs_out() -> None:
    data = workbook(GOOD, filler=48 << 20)  # one 48 MiB string: past the inspection when ratios are not checked
    with pytest.raises(UnsafeSpreadsheet, match="mémoire"):
        read_xlsx_isolated(data, limits=Limits(child_memory_bytes=160 << 20, max_ratio=10**9))
    rows, _ = read_xlsx_isolated(workbook(GOOD), limits=Limits(child_memory_bytes=160 << 20))
    assert len(rows) == 2  # the same limit reads an ordinary workbook


def test_not_a_zip_is_a_clear_refusal() -> None:
    with pytest.raises(UnsafeSpreadsheet, match="zip"):
        inspect_xlsx(b"PK\x03\x04 this is not a zip")
