"""Measurement CSV: designs parsed, malformed rows reported with line, column and reason."""

import pytest

from templater.jobs.measurements import MeasurementError, read_measurements


def write(tmp_path, text):
    p = tmp_path / "m.csv"
    p.write_text(text)
    return p


def test_reads_presets_and_explicit_designs(tmp_path):
    p = write(tmp_path, "# my cells\nkind,H_um,S_um,form,invert,ccd_mA_cm2,preset\n"
                        "eggbox,25,150,product,false,1.5,\n"
                        "flat,,,,,1.0,\n"
                        ",,,,,1.2,pyramid-H25S150\n")
    ms = read_measurements(p)
    assert [m.design.kind for m in ms] == ["eggbox", "flat", "pyramid"]
    assert [m.line for m in ms] == [3, 4, 5]
    assert ms[0].critical_current_a_m2 == pytest.approx(15.0)


@pytest.mark.parametrize("body, match", [
    ("kind,H_um,S_um,ccd_mA_cm2\neggbox,abc,150,1\n", r"m.csv:2: column 'H_um': 'abc' is not"),
    ("kind,H_um,S_um,ccd_mA_cm2\neggbox,25,150\n", r"m.csv:2: expected 4 columns"),
    ("kind,H_um,S_um,ccd_mA_cm2\neggbox,25,150,-1\n", r"m.csv:2: column 'ccd_mA_cm2'.*> 0"),
    ("kind,H_um,S_um,ccd_mA_cm2\neggbox,25,150,nan\n", r"m.csv:2: column 'ccd_mA_cm2'"),
    ("kind,H_um,S_um,ccd_mA_cm2\negbox,25,150,1\n", r"m.csv:2: .*did you mean 'eggbox'"),
    ("kind,H_um,S_um,ccd_mA_cm2\neggbox,500,150,1\n", r"m.csv:2: .*--H"),
    ("kind,H_um,S_um\neggbox,25,150\n", r"m.csv:1: header lacks the column 'ccd_mA_cm2'"),
    ("H_um,ccd_mA_cm2\n25,1\n", r"m.csv:1: header needs"),
    ("kind,H_um,S_um,ccd_mA_cm2\n", r"no measurements"),
])
def test_malformed_rows_are_reported_precisely(tmp_path, body, match):
    with pytest.raises(MeasurementError, match=match):
        read_measurements(write(tmp_path, body))


def test_spreadsheet_csv_with_byte_order_mark_and_crlf(tmp_path):
    """What a spreadsheet's "CSV UTF-8" export writes: BOM, CRLF line ends."""
    p = tmp_path / "excel.csv"
    p.write_bytes("kind,H_um,S_um,ccd_mA_cm2\r\neggbox,25,150,1.5\r\nflat,,,1.0\r\n"
                  .encode("utf-8-sig"))
    ms = read_measurements(p)
    assert [m.design.kind for m in ms] == ["eggbox", "flat"]
    assert ms[0].critical_current_a_m2 == pytest.approx(15.0)


def test_semicolon_separated_with_decimal_commas(tmp_path):
    p = write(tmp_path, "kind;H_um;S_um;ccd_mA_cm2\neggbox;12,5;150;1,25\n")
    (m,) = read_measurements(p)
    assert m.design.height_um == 12.5 and m.critical_current_a_m2 == pytest.approx(12.5)


def test_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MeasurementError, match="is a folder"):
        read_measurements(tmp_path)
