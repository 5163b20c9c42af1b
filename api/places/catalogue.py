"""The fixed lists of the places register: categories, risk levels, the coordinate systems of
imported files. The migration (0026_places) checks the same categories and levels."""

from __future__ import annotations

# code -> (Chinese, English)
CATEGORIES: dict[str, tuple[str, str]] = {
    "enterprise": ("企业", "enterprise"),
    "shop": ("商铺", "shop"),
    "restaurant": ("餐饮", "restaurant"),
    "rental_housing": ("出租房", "rental housing"),
    "construction_site": ("建筑工地", "construction site"),
    "school": ("学校", "school"),
    "market": ("市场", "market"),
    "hazardous_goods_store": ("危化品仓储", "store of hazardous goods"),
    "hotel": ("旅馆", "hotel"),
    "entertainment_venue": ("娱乐场所", "entertainment venue"),
    "care_home": ("养老机构", "care home"),
    "other": ("其他", "other"),
}
RISK_LEVELS = ("low", "medium", "high")
# what a file's lon/lat are in: CGCS2000 and WGS-84 differ by centimetres and are taken as they are
INPUT_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")
CODE_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"
MAX_LICENCES = 10
