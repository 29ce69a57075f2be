"""Tests of the Word documents: fonts, templates, byte-reproducibility, the pack's report and 17
diagnoses, and their PDF through LibreOffice (Chinese glyphs embedded and rendered)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import numpy as np
import pytest
from docx.shared import Pt
from lxml import etree

from zgc_space import datasets, demo, report
from zgc_space.errors import DataFileError, ParameterError
from zgc_space.report._document import Document, Figure, Heading, Para, Table, to_html
from zgc_space.report._docx import DocxFonts, _reproducible_pdf, render_docx

POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm"))
needs_office = pytest.mark.skipif(report.soffice_path() is None or not POPPLER,
                                  reason="needs LibreOffice and poppler-utils (make system)")


def _doc() -> Document:
    d = Document(title="测试文件 标题", subtitle="副标题", cover=[("日期", "2024-07-24")])
    d.add(Heading("一、指标"), Para("综合容积率 1.18。", facts=("far",)), Para("要点", style="bullet"),
          Table(rows=(("指标", "数值"), ("综合容积率", "1.18")), caption="表 1", numeric=(False, True)))
    return d


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _east_asia_everywhere(path: Path) -> list[str]:
    """Return what lacks an East-Asian font: the defaults, a paragraph style in use, or a run with text."""
    with zipfile.ZipFile(path) as z:
        body, styles = (etree.fromstring(z.read(f"word/{n}.xml")) for n in ("document", "styles"))
    missing = []
    if styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts[@{W}eastAsia]") is None:
        missing.append("docDefaults")
    declared = {s.get(f"{W}styleId") for s in styles.iter(f"{W}style")
                if s.find(f"{W}rPr/{W}rFonts[@{W}eastAsia]") is not None}
    used = {p.get(f"{W}val") for p in body.iter(f"{W}pStyle")}
    missing += [f"style {s}" for s in sorted(used - declared)]
    for run in body.iter(f"{W}r"):
        text = "".join(t.text or "" for t in run.iter(f"{W}t"))
        if text.strip() and run.find(f"{W}rPr/{W}rFonts[@{W}eastAsia]") is None:
            missing.append(f"run {text[:10]}")
    return sorted(set(missing))


def test_every_run_and_style_declares_an_east_asian_font(tmp_path):
    path = render_docx(_doc(), tmp_path / "a.docx", fonts=DocxFonts(east_asia="宋体", east_asia_heading="黑体"))
    assert _east_asia_everywhere(path) == []
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    assert 'w:eastAsia="宋体"' in xml and 'w:eastAsia="黑体"' in xml and 'w:eastAsia="zh-CN"' in xml
    with pytest.raises(ParameterError, match="east_asia must be a font name"):
        DocxFonts(east_asia=" ")


def test_two_runs_are_byte_identical_with_fixed_times(tmp_path):
    a = render_docx(_doc(), tmp_path / "a.docx")
    b = render_docx(_doc(), tmp_path / "b.docx")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2024, 7, 24, 0, 0, 0)}
    props = docx.Document(str(a)).core_properties
    assert (props.created.year, props.revision, props.author) == (2024, 1, "zgc_space")


def test_a_template_gives_its_styles_and_keeps_none_of_its_text(tmp_path):
    template = docx.Document()
    template.styles["Normal"].font.size = Pt(15)
    template.add_paragraph("模板正文，不应出现")
    template_path = tmp_path / "bureau.docx"
    template.save(str(template_path))
    before = template_path.read_bytes()
    out = render_docx(_doc(), tmp_path / "out.docx", template=template_path)
    document = docx.Document(str(out))
    assert document.styles["Normal"].font.size == Pt(15)
    assert "模板正文，不应出现" not in [p.text for p in document.paragraphs]
    assert template_path.read_bytes() == before
    with pytest.raises(DataFileError, match="overwrite its template"):
        render_docx(_doc(), template_path, template=template_path)
    with pytest.raises(DataFileError, match="does not exist"):
        render_docx(_doc(), tmp_path / "x.docx", template=tmp_path / "none.docx")
    with pytest.raises(DataFileError, match="figure"):
        render_docx(Document(title="t", blocks=[Figure(tmp_path / "none.png", "图")]), tmp_path / "y.docx")


def test_html_rendering_escapes_and_inlines():
    d = _doc().add(Para("<script>alert(1)</script>"))
    page = to_html(d)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<ul><li>要点</li></ul>" in page and '<td class="num">1.18</td>' in page


def test_reproducible_pdf_fixes_dates_id_and_checksum_in_place():
    raw = (b"%PDF-1.4\n<</CreationDate(D:20261203054500+01'00')/ModDate(D:20261203054501Z)>>\ntrailer\n"
           b"/ID [ <0123456789ABCDEF> <FEDCBA9876543210> ]\n/DocChecksum /00112233445566778899AABBCCDDEEFF\n")
    a, b = _reproducible_pdf(raw, b"seed"), _reproducible_pdf(raw.replace(b"0545", b"0999"), b"seed")
    assert len(a) == len(raw) and a == b  # same length: the xref offsets stay valid
    assert b"D:20240724000000+01'00'" in a and b"D:20240724000000Z" in a
    assert b"0123456789ABCDEF" not in a and b"00112233445566778899AABBCCDDEEFF" not in a
    assert _reproducible_pdf(raw, b"other") != a


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """A pack with the Word report, the 17 diagnoses and their PDF (maps printed at a low resolution)."""
    out = tmp_path_factory.mktemp("docs") / "pack"
    sim, rules = demo.sample_dynamic()
    pdf = report.soffice_path() is not None
    index = report.hearing_pack(datasets.load_blocks(), out_dir=out, dynamic=sim, inputs=[rules], dpi=40,
                                documents=True, documents_pdf=pdf, date="2024-07-24", pdf=False)
    return index.parent


def test_the_pack_writes_the_report_and_17_diagnoses_and_links_them(pack):
    diagnoses = sorted((pack / "diagnoses").glob("*.docx"))
    assert len(diagnoses) == 17
    index = (pack / "index.html").read_text(encoding="utf-8")
    for path in diagnoses:
        assert f'href="diagnoses/{path.name}"' in index and f'href="diagnoses/{path.stem}.html"' in index
    assert 'href="report.docx"' in index
    document = docx.Document(str(pack / "report.docx"))
    texts = [p.text for p in document.paragraphs]
    for heading in ("摘要", "一、全区指标与全国排名", "二、分园", "三、地图", "六、动态调整模拟",
                    "七、数据来源与可追溯性", "八、一分园一诊断书"):
        assert heading in texts
    assert any(t.startswith("全区土地利用集约度分值") and "距上一名差" in t for t in texts)
    assert len(document.inline_shapes) == 4  # the printed maps: FAR, tax per ha, sub-park score, dynamic
    assert any(t.startswith("图 1 ") for t in texts)
    sha = [c.text for t in document.tables for c in t._cells if len(c.text) == 64]
    assert io_sha(rules_path()) in sha
    assert _east_asia_everywhere(pack / "report.docx") == []
    for path in diagnoses:
        assert _east_asia_everywhere(path) == [], path.name
    manifest = (pack / "manifest.json").read_text(encoding="utf-8")
    assert '"path": "diagnoses/海淀园.docx"' in manifest and '"diagnoses": 17' in manifest


def rules_path() -> Path:
    return datasets.path("dynamic_rules.yaml")


def io_sha(path: Path) -> str:
    from zgc_space import io

    return io.sha256_file(path)


@needs_office
def test_pdf_of_every_document_embeds_chinese_fonts_and_renders_them(pack, tmp_path):
    pdfs = [pack / "report.pdf", *sorted((pack / "diagnoses").glob("*.pdf"))]
    assert len(pdfs) == 18
    for pdf in pdfs:
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes " in line for line in cjk), (pdf.name, fonts)  # embedded, so no missing glyph
        first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                               text=True, check=True).stdout
        title = "听证材料" if pdf.name == "report.pdf" else f"{pdf.stem} 诊断书"
        assert title in first, (pdf.name, first[:200])
    # the first page rendered: the title's glyphs are drawn (dark pixels in the title band)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(pdfs[1]), str(tmp_path / "p")],
                   check=True, timeout=60)
    page = next(tmp_path.glob("p*.pgm"))
    pixels = _pgm(page)
    band = pixels[int(pixels.shape[0] * 0.2): int(pixels.shape[0] * 0.4)]
    assert (band < 128).sum() > 100


def _pgm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    parts = data.split(b"\n", 3)  # P5, "w h", maxval, pixels
    width, height = map(int, parts[1].split())
    return np.frombuffer(parts[3], dtype=np.uint8)[: width * height].reshape(height, width)


@needs_office
def test_pdf_conversion_is_byte_reproducible(pack, tmp_path):
    # LibreOffice's embedded font subsets depend on what it converted before in the same run, so the
    # same files in the same order (as a pack converts them) give the same bytes
    sources = [pack / "diagnoses" / f"{name}.docx" for name in ("平谷园", "延庆园")]
    a = report.convert_to_pdf(sources, out_dir=tmp_path / "a", timeout_s=300)
    b = report.convert_to_pdf(sources, out_dir=[tmp_path / "b", tmp_path / "c"], timeout_s=300)
    assert [p.parent.name for p in b] == ["b", "c"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_pdf_conversion_refuses_missing_files_and_name_clashes(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        report.convert_to_pdf([tmp_path / "missing.docx"], out_dir=tmp_path)
    a = render_docx(_doc(), tmp_path / "a" / "x.docx")
    b = render_docx(_doc(), tmp_path / "b" / "x.docx")
    with pytest.raises(ParameterError, match="different names"):
        report.convert_to_pdf([a, b], out_dir=tmp_path)
