import geopandas as gpd
import pandas as pd
from shapely import box

from zgc_space.io._provenance import frame_sha256, installed_versions


def test_frame_sha256_covers_values_columns_geometry_and_crs():
    frame = gpd.GeoDataFrame({"x": [1.0]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    digest = frame_sha256(frame)
    assert digest == frame_sha256(frame.copy())
    assert len({digest,
                frame_sha256(frame.assign(x=[2.0])),
                frame_sha256(frame.rename(columns={"x": "y"})),
                frame_sha256(frame.set_geometry([box(0, 0, 2, 1)])),
                frame_sha256(frame.set_crs("EPSG:4547", allow_override=True)),
                frame_sha256(pd.DataFrame(frame.drop(columns="geometry")))}) == 6


def test_installed_versions_keep_the_order_and_name_the_missing():
    found = installed_versions(["numpy", "no-such-distribution", "pandas"])
    assert list(found) == ["numpy", "no-such-distribution", "pandas"]
    assert found["no-such-distribution"] is None
    assert found["pandas"] == pd.__version__
