"""Tests of zgc_space.static: printed PNG/PDF maps with a CJK font."""

from __future__ import annotations

import struct

import geopandas as gpd
import numpy as np
import pytest
from matplotlib import font_manager
from shapely import box

from zgc_space.errors import CRSError, DataFileError, MapError, ReprojectionWarning
from zgc_space.maps import Footer, static

XSS = "<img src=x onerror=alert(1)>"


def synthetic_blocks(n: int = 12) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(11)
    geoms = [box(440_000 + (i % 4) * 400, 4_428_000 + (i // 4) * 400,
                 440_400 + (i % 4) * 400, 4_428_400 + (i // 4) * 400) for i in range(n)]
    return gpd.GeoDataFrame(
        {"block_id": [f"B{i}" for i in range(n)], "subpark": ["海淀园"] * 6 + ["昌平园"] * (n - 6),
         "employees": rng.uniform(100, 9000, n).round()},
        geometry=geoms, crs="EPSG:4548",
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_and_pdf_with_cjk_font_are_reproducible(tmp_path):
    footer = Footer(review_number="京S(2024)001号", data_source="样例数据 sample", crs="CGCS2000", date="2024-07-24")
    kwargs = {"formats": ("png", "pdf"), "dpi": 60, "footer": footer, "title": "中关村 从业人员"}
    # warnings are errors in the test run: a glyph missing from the font would fail here
    first = static.static_map(synthetic_blocks(), "employees", path=tmp_path / "a" / "map.png", **kwargs)
    second = static.static_map(synthetic_blocks(), "employees", path=tmp_path / "b" / "map.png", **kwargs)
    assert [p.name for p in first] == ["map.png", "map.pdf"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    pdf = first[1].read_bytes()
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf  # the CJK font is what was embedded
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    png = first[0].read_bytes()
    assert png_size(png) == (int(297 / 25.4 * 60), int(210 / 25.4 * 60))  # A4 landscape
    assert b"Software" not in png


def test_a3_paper_single_pdf_and_escaping_is_not_needed_for_text(tmp_path):
    blocks = synthetic_blocks()
    blocks.loc[0, "employees"] = np.nan
    out = static.static_map(blocks, "employees", path=tmp_path / "m.pdf", paper="A3", title=XSS,
                            scheme="explicit", bins=[1000, 5000], labels="zh",
                            districts=blocks.dissolve("subpark").reset_index(), subparks=False)
    assert out == (tmp_path / "m.pdf",)
    assert out[0].read_bytes().startswith(b"%PDF")
    png = static.static_map(blocks, "employees", path=tmp_path / "m.png", paper="A3", dpi=30)
    assert png_size(png[0].read_bytes()) == (int(420 / 25.4 * 30), int(297 / 25.4 * 30))


def test_geographic_input_is_drawn_in_metric_crs(tmp_path):
    with pytest.warns(ReprojectionWarning, match=r"reprojected 'blocks' from EPSG:4326"):
        out = static.static_map(synthetic_blocks().to_crs("EPSG:4326"), "employees", path=tmp_path / "g.png",
                                dpi=30)
    assert out[0].stat().st_size > 1000


def test_crs_policy_refuses_what_to_metric_refuses(tmp_path):
    blocks = synthetic_blocks()
    wrong_zone = blocks.set_crs("EPSG:4547", allow_override=True)  # metres labelled with the wrong zone
    with pytest.raises(CRSError, match="EPSG:4547"):
        static.static_map(wrong_zone, "employees", path=tmp_path / "w.png", dpi=30)
    with pytest.raises(CRSError, match="EPSG:4547"):
        static.static_map(blocks, "employees", path=tmp_path / "d.png", dpi=30, districts=wrong_zone)
    assert not list(tmp_path.iterdir())


def test_nice_scale_bar_lengths():
    assert [static._nice_length(x) for x in (1_700, 5_000, 12_000, 260_000)] == [200, 1000, 2000, 50_000]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"path": "map.svg"}, MapError, r"cannot write format\(s\) \['svg'\]"),
        ({"path": "map.png", "paper": "Letter"}, MapError, "paper='Letter' is not one of"),
        ({"path": "map.png", "scheme": "bogus"}, MapError, "scheme='bogus'"),
    ],
)
def test_static_map_argument_errors(tmp_path, kwargs, exc, match):
    kwargs["path"] = tmp_path / kwargs["path"]
    with pytest.raises(exc, match=match):
        static.static_map(synthetic_blocks(), "employees", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_static_map_data_errors(tmp_path):
    blocks = synthetic_blocks()
    with pytest.raises(CRSError, match="GeoDataFrame with a CRS"):
        static.static_map(blocks.set_crs(None, allow_override=True), "employees", path=tmp_path / "x.png")
    with pytest.raises(CRSError, match="`districts` has no CRS"):
        static.static_map(blocks, "employees", path=tmp_path / "x.png",
                          districts=blocks.set_crs(None, allow_override=True))
    with pytest.raises(MapError, match="is empty"):
        static.static_map(blocks.iloc[:0], "employees", path=tmp_path / "x.png")


def test_cjk_font_found_and_clear_error_when_absent(monkeypatch, tmp_path):
    assert static.cjk_font().get_family()[0] == "Noto Sans CJK SC"
    with pytest.raises(DataFileError, match="font file .* does not exist"):
        static.cjk_font(tmp_path / "nofont.ttc")
    monkeypatch.setattr(static, "CJK_FAMILIES", ("No Such CJK Family",))
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    expected = r"tried No Such CJK Family\): install 'Noto Sans CJK SC' from the Debian package fonts-noto-cjk"
    with pytest.raises(DataFileError, match=expected):
        static.cjk_font()
    with pytest.raises(DataFileError, match="fonts-noto-cjk"):
        static.static_map(synthetic_blocks(), "employees", path=tmp_path / "x.png")


def test_font_file_argument(tmp_path):
    path = next(f.fname for f in font_manager.fontManager.ttflist if f.name == "Noto Sans CJK SC")
    out = static.static_map(synthetic_blocks(), "employees", path=tmp_path / "f.pdf", font=path)
    assert b"NotoSansCJK" in out[0].read_bytes()


def _png_dpi(data: bytes) -> float:
    """The PNG's physical resolution (pHYs chunk, pixels per metre) in dots per inch."""
    at = data.find(b"pHYs")
    assert at > 0, "no pHYs chunk: the PNG does not say its resolution"
    per_m_x, per_m_y, unit = struct.unpack(">IIB", data[at + 4: at + 13])
    assert unit == 1 and per_m_x == per_m_y
    return per_m_x * 0.0254


@pytest.mark.parametrize("paper, size_pt", [("A4", (841.89, 595.28)), ("A3", (1190.55, 841.89))])
def test_print_pair_is_300_dpi_png_and_a_vector_pdf_at_paper_size(tmp_path, paper, size_pt):
    """For print: a PNG at 300 dpi fills the paper exactly; the PDF is vector (no raster) with CJK fonts embedded."""
    import shutil
    import subprocess

    png, pdf = static.static_map(synthetic_blocks(), "employees", path=tmp_path / "m", formats=("png", "pdf"),
                                 paper=paper, dpi=static.PRINT_DPI, title="中关村 从业人员")
    data = png.read_bytes()
    assert round(_png_dpi(data)) == 300
    mm = static.PAPER_MM[paper]
    assert png_size(data) == pytest.approx((round(mm[0] / 25.4 * 300), round(mm[1] / 25.4 * 300)), abs=1)
    if shutil.which("pdfinfo") is None:
        pytest.fail("pdfinfo (poppler-utils) is missing: run `make system` (as root) to install it")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = (float(v) for v in info.split("Page size:")[1].split("pts")[0].split(" x "))
    assert (width, height) == pytest.approx(size_pt, abs=0.5)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header only: every line, fill and glyph is vector
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.strip().splitlines()[2:]]
    assert rows and all("NotoSansCJK" in r[0] for r in rows) and all("yes" in r[-5:-2] for r in rows)
