"""Coordinate systems used by phones and maps in China, converted to WGS-84.

GCJ-02 is the obfuscated datum every map SDK and most phones in mainland China
report; BD-09 is Baidu's further offset of it. Stored coordinates are WGS-84
(CGCS2000 differs from it by centimetres). The forward formulas are the published
ones; GCJ-02 has no closed-form inverse, so the inverse iterates the forward
transform until it lands within a millimetre. All functions take scalars or numpy
arrays.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Crs = Literal["wgs84", "gcj02", "bd09"]
CRS_CHOICES: tuple[Crs, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses it
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

FloatArray = NDArray[np.float64]


def _asarrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The rough box in which GCJ-02 offsets apply; outside it they are identity."""
    x, y = _asarrays(lon, lat)
    return (x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _asarrays(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    gx, gy = _asarrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    # Fixed-point iteration: the offset varies slowly, so each step gains about
    # two orders of magnitude; 1e-9 degrees is about 0.1 mm.
    for _ in range(10):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = fx - gx, fy - gy
        wx = wx - ex
        wy = wy - ey
        if float(np.max(np.abs(ex), initial=0.0)) < 1e-9 and float(
            np.max(np.abs(ey), initial=0.0)
        ) < 1e-9:
            break
    return wx, wy


def _bd09_to_gcj02_approx(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = x - 0.0065
    y = y - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    # The published inverse is off by up to ~0.2 m; a few corrections against
    # the exact forward formula bring it under a millimetre.
    bx, by = _asarrays(lon, lat)
    gx, gy = _bd09_to_gcj02_approx(bx, by)
    for _ in range(5):
        fx, fy = gcj02_to_bd09(gx, gy)
        gx = gx - (fx - bx)
        gy = gy - (fy - by)
    return gx, gy


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _asarrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Convert from the named system to WGS-84; unknown names raise ValueError."""
    if crs == "wgs84":
        return _asarrays(lon, lat)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_CHOICES)}")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    if crs == "wgs84":
        return _asarrays(lon, lat)
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_CHOICES)}")


def coordinate_problem(lon: float, lat: float) -> str | None:
    """Why a point cannot be a coordinate, in words for the person who sent it."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "坐标必须是有限数值"
    if not -180.0 <= lon <= 180.0:
        return f"经度 {lon} 超出范围，应在 -180 到 180 之间"
    if not -90.0 <= lat <= 90.0:
        return f"纬度 {lat} 超出范围，应在 -90 到 90 之间"
    return None


EARTH_RADIUS_M = 6371008.8


def metres_per_degree(lat0: float) -> tuple[float, float]:
    """Scale of a local equirectangular projection around latitude lat0 (x, y)."""
    k = math.pi / 180.0 * EARTH_RADIUS_M
    return k * math.cos(math.radians(lat0)), k
