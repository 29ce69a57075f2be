"""Render a :class:`~zgc_space.report._document.Document` as a Word file, and Word files as PDF.

Private: :mod:`zgc_space.report` calls these. East-Asian fonts are declared on the document
defaults, on every style used and on every run (``w:rFonts`` with ``w:eastAsia``, and
``w:lang w:eastAsia="zh-CN"``), so Word and LibreOffice both pick a Chinese font. A bureau
template (.docx) may supply the styles and the page setup: its body is emptied, its styles kept.

The bytes depend only on the content: the core properties (author, dates, revision) are fixed
and the zip entries get one fixed timestamp, so two runs give the same file. PDF conversion runs
LibreOffice (``soffice --headless``) once for many files, with its own profile folder; its
dates and document id are then set from the Word file's hash, so the PDF is reproducible too.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io as _stdio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from zgc_space import io
from zgc_space.errors import DataFileError, ParameterError
from zgc_space.report._document import Document, Figure, Heading, PageBreak, Para, Table

__all__ = ["DocxFonts", "convert_to_pdf", "render_docx", "soffice_path"]

#: The fixed date of every document's core properties and zip entries (no clock in the output).
EPOCH = _dt.datetime(2024, 7, 24, tzinfo=_dt.timezone.utc)  # the date of the source report
_ZIP_TIME = (2024, 7, 24, 0, 0, 0)


class DocxFonts:
    """Fonts of a Word document: East-Asian (body, headings) and Latin.

    The defaults are the Noto CJK fonts the Makefile installs (``fonts-noto-cjk``); a bureau
    on Windows may pass ``east_asia="宋体", east_asia_heading="黑体"``.
    """

    def __init__(self, *, east_asia: str = "Noto Serif CJK SC", east_asia_heading: str = "Noto Sans CJK SC",
                 latin: str = "Times New Roman", latin_heading: str = "Arial") -> None:
        for name, value in (("east_asia", east_asia), ("east_asia_heading", east_asia_heading), ("latin", latin),
                            ("latin_heading", latin_heading)):
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(f"DocxFonts {name} must be a font name, got {value!r}")
        self.east_asia, self.east_asia_heading = east_asia, east_asia_heading
        self.latin, self.latin_heading = latin, latin_heading


#: Characters XML 1.0 cannot hold (a Word document is XML): control characters but tab and newline.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    r"""Return ``text`` without the characters XML cannot hold (they come from data, e.g. a name with a NUL).

    Examples
    --------
    >>> xml_text("a\x00b\tc")
    'ab\tc'
    """
    return _NOT_XML.sub("", text)


def _set_fonts(rpr: docx.oxml.CT_RPr, east_asia: str, latin: str) -> None:  # type: ignore[name-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _style(names: set[str], name: str, fallback: str = "Normal") -> str:
    return name if name in names else fallback


class _Writer:
    def __init__(self, template: Path | None, fonts: DocxFonts) -> None:
        self.doc = docx.Document(str(template) if template is not None else None)
        self.fonts = fonts
        body = self.doc.element.body
        for child in list(body):  # keep the template's styles and page setup, not its text
            if child.tag != qn("w:sectPr"):
                body.remove(child)
        styles = self.doc.styles.element
        defaults = styles.find(qn("w:docDefaults"))
        if defaults is None:
            defaults = OxmlElement("w:docDefaults")
            styles.insert(0, defaults)
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is None:
            rpr_default = OxmlElement("w:rPrDefault")
            defaults.insert(0, rpr_default)
        rpr = rpr_default.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            rpr_default.append(rpr)
        _set_fonts(rpr, fonts.east_asia, fonts.latin)
        self.names = {str(s.name) for s in self.doc.styles}
        self.ids = {str(s.name): str(s.style_id) for s in self.doc.styles if s.type == 1}
        self.heading_styles = {name for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3")}
        for style in self.doc.styles:
            if style.type == 1 or style.type == 3:  # paragraph and table styles
                heading = style.name in self.heading_styles
                _set_fonts(style.element.get_or_add_rPr(), fonts.east_asia_heading if heading else fonts.east_asia,
                           fonts.latin_heading if heading else fonts.latin)
        if template is None:
            normal = self.doc.styles["Normal"]
            normal.font.size = Pt(11)
            normal.paragraph_format.space_after = Pt(4)
            normal.paragraph_format.line_spacing = 1.25
            section = self.doc.sections[0]
            section.orientation = WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
            for side in ("left_margin", "right_margin"):
                setattr(section, side, Cm(2.4))
            section.top_margin = section.bottom_margin = Cm(2.2)

    def run(self, paragraph: docx.text.paragraph.Paragraph, text: str, *, heading: bool = False,  # type: ignore[name-defined]
            bold: bool = False, size: float | None = None, colour: str | None = None) -> None:
        run = paragraph.add_run(xml_text(text))
        _set_fonts(run._r.get_or_add_rPr(), self.fonts.east_asia_heading if heading else self.fonts.east_asia,
                   self.fonts.latin_heading if heading else self.fonts.latin)
        run.bold = bold or None
        if size is not None:
            run.font.size = Pt(size)
        if colour is not None:
            run.font.color.rgb = RGBColor.from_string(colour)

    def new_paragraph(self, style: str) -> docx.text.paragraph.Paragraph:  # type: ignore[name-defined]
        """Add a paragraph of ``style`` (by its id: python-docx's lookup by name walks every style)."""
        paragraph = self.doc.add_paragraph()
        name = _style(self.names, style)
        if name != "Normal" and name in self.ids:
            paragraph._p.style = self.ids[name]
        return paragraph

    def para(self, text: str, style: str = "Normal", **run: object) -> docx.text.paragraph.Paragraph:  # type: ignore[name-defined]
        paragraph = self.new_paragraph(style)
        self.run(paragraph, text, heading=style in self.heading_styles, **run)  # type: ignore[arg-type]
        return paragraph

    def cover(self, document: Document) -> None:
        for _ in range(6):
            self.doc.add_paragraph()
        title = self.para(document.title, "Title", size=24, bold=True)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if document.subtitle:
            sub = self.para(document.subtitle, "Subtitle", size=14)
            sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for _ in range(4):
            self.doc.add_paragraph()
        for key, value in document.cover:
            line = self.new_paragraph("Normal")
            line.alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.run(line, f"{key}：" if document.lang != "en" else f"{key}: ", bold=True)
            self.run(line, value)
        self.page_break()

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def caption(self, text: str) -> None:
        self.para(text, "Caption", size=9.5, colour="444444")

    def table(self, table: Table) -> None:
        if table.caption:
            self.caption(table.caption)
        head, *body = table.rows
        grid = self.doc.add_table(rows=len(table.rows), cols=len(head))
        grid.style = _style(self.names, "Table Grid", "Normal Table")
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        numeric = table.numeric or tuple(False for _ in head)
        cells = grid._cells  # once: grid.cell(r, c) walks every cell of the table on each call
        for r, row in enumerate(table.rows):
            for c, text in enumerate(row):
                cell = cells[r * len(head) + c]
                paragraph = cell.paragraphs[0]
                if r > 0 and c < len(numeric) and numeric[c]:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                self.run(paragraph, text, heading=r == 0, bold=r == 0, size=9)
                if r == 0:
                    shade = OxmlElement("w:shd")
                    shade.set(qn("w:val"), "clear")
                    shade.set(qn("w:fill"), "EEF1F8")
                    cell._tc.get_or_add_tcPr().append(shade)
        if body:
            header_row = grid.rows[0]._tr.get_or_add_trPr()
            repeat = OxmlElement("w:tblHeader")  # the header repeats on every page
            header_row.append(repeat)
        self.doc.add_paragraph()

    def figure(self, figure: Figure) -> None:
        if not figure.path.is_file():
            raise DataFileError(f"figure {figure.path} for the Word document does not exist")
        paragraph = self.new_paragraph("Normal")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run().add_picture(str(figure.path), width=Cm(figure.width_cm))
        self.caption(figure.caption)

    def render(self, document: Document) -> None:
        self.cover(document)
        for block in document.blocks:
            if isinstance(block, Heading):
                self.para(block.text, f"Heading {min(max(block.level, 1), 3)}")
            elif isinstance(block, Para):
                style = {"bullet": "List Bullet", "note": "Normal", "lead": "Normal"}.get(block.style, "Normal")
                self.para(block.text, style, size={"note": 9.5, "lead": 12.0}.get(block.style),
                          colour="555555" if block.style == "note" else None)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, PageBreak):
                self.page_break()
        props = self.doc.core_properties
        props.title, props.author, props.last_modified_by = xml_text(document.title), "zgc_space", "zgc_space"
        props.created = props.modified = props.last_printed = EPOCH.replace(tzinfo=None)
        props.revision = 1
        props.language = "en" if document.lang == "en" else "zh-CN"
        props.comments = props.keywords = props.subject = props.category = ""


def _fixed_zip(data: bytes) -> bytes:
    """Return the zip ``data`` with every entry at one fixed time and mode (same content, same bytes)."""
    out = _stdio.BytesIO()
    with zipfile.ZipFile(_stdio.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render_docx(document: Document, path: Path, *, template: Path | None = None,
                fonts: DocxFonts | None = None) -> Path:
    """Write ``document`` as a Word file at ``path`` (atomically); return the path."""
    if template is not None:
        template = Path(template)
        if not template.is_file():
            raise DataFileError(f"Word template {template} does not exist; pass an existing .docx file as template=")
        if template.resolve() == Path(path).resolve():
            raise DataFileError(f"the Word document {path} would overwrite its template; write it elsewhere")
    writer = _Writer(template, fonts or DocxFonts())
    try:
        writer.render(document)
    except (KeyError, ValueError) as exc:
        raise DataFileError(f"cannot write the Word document {path}: {exc}") from exc
    buffer = _stdio.BytesIO()
    writer.doc.save(buffer)
    return io.write_atomic(path, _fixed_zip(buffer.getvalue()))


def soffice_path() -> str | None:
    """Return LibreOffice's ``soffice`` (or ``libreoffice``) on the PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


_PDF_DATE = re.compile(rb"D:\d{14}(?:[+-]\d{2}'\d{2}'?|Z)?")
_PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_PDF_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]+)")


def _reproducible_pdf(data: bytes, seed: bytes) -> bytes:
    """Replace LibreOffice's clock dates, document id and checksum by fixed ones of the same length.

    Same lengths keep the cross-reference offsets valid; the id is derived from ``seed`` (the
    Word file's bytes), so the PDF's bytes depend on the document only.
    """
    stamp = EPOCH.strftime("%Y%m%d%H%M%S").encode()

    def date(m: re.Match[bytes]) -> bytes:
        text = m.group(0)
        return (b"D:" + stamp + text[16:]) if len(text) >= 16 else text

    digest = hashlib.sha256(seed).hexdigest().upper().encode() * 4

    def ident(m: re.Match[bytes]) -> bytes:
        a, b = m.group(1), m.group(2)
        return m.group(0).replace(a, digest[: len(a)], 1).replace(b, digest[: len(b)], 1)

    def checksum(m: re.Match[bytes]) -> bytes:
        return m.group(0).replace(m.group(1), digest[: len(m.group(1))])

    return _PDF_CHECKSUM.sub(checksum, _PDF_ID.sub(ident, _PDF_DATE.sub(date, data)))


def convert_to_pdf(paths: Sequence[Path], *, out_dir: Path | Sequence[Path], timeout_s: float = 300.0) -> list[Path]:
    """Convert Word files to PDF with LibreOffice in one run; write ``out_dir/<stem>.pdf`` atomically.

    ``out_dir`` is one folder, or one folder per file (the stems must then differ). LibreOffice
    gets a profile folder of its own (so concurrent runs do not share one) and at most
    ``timeout_s`` seconds. The same files in the same order give the same bytes (the embedded
    font subsets depend on what the run converted before). Raises
    :class:`~zgc_space.errors.DataFileError` when LibreOffice is not installed, fails, or times out.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    folders = [Path(out_dir)] * len(paths) if isinstance(out_dir, (str, os.PathLike)) else [Path(f) for f in out_dir]
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise DataFileError(f"cannot convert {', '.join(absent)} to PDF: no such file; write the Word file first")
    stems = [p.stem for p in paths]
    if len(folders) != len(paths) or len(set(stems)) != len(stems):
        raise ParameterError("convert_to_pdf needs one out_dir, or one per file, and Word files with different "
                             f"names (got {len(paths)} files, {len(folders)} folders)")
    exe = soffice_path()
    if exe is None:
        raise DataFileError("LibreOffice (soffice) is not installed, so no PDF can be made; install the Debian "
                            "package libreoffice-writer-nogui (make system) or leave the PDF out")
    with tempfile.TemporaryDirectory(prefix="zgc-soffice-") as tmp:
        profile = Path(tmp) / "profile"
        work = Path(tmp) / "out"
        work.mkdir()
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work), *[str(p.resolve()) for p in paths]]
        env = {**os.environ, "HOME": tmp}
        # its own process group, so that a timeout ends soffice.bin too (soffice is a launcher)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise DataFileError(f"LibreOffice did not convert {len(paths)} Word file(s) within {timeout_s:g} s; "
                                "raise timeout_s or convert fewer files") from exc
        out: list[Path] = []
        for src, folder in zip(paths, folders, strict=True):
            made = work / f"{src.stem}.pdf"
            if not made.is_file():
                tail = (stderr or stdout).decode("utf-8", "replace")[-400:]
                raise DataFileError(f"LibreOffice did not convert {src} to PDF (exit {proc.returncode}): {tail}")
            out.append(io.write_atomic(folder / made.name, _reproducible_pdf(made.read_bytes(), src.read_bytes())))
    return out
