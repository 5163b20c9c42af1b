-- The sample's places (民情地图): one in every seventh grid, at a point drawn with a fixed seed,
-- 200 in all, categories and risk levels by their number; no contact (the sample holds no
-- person's phone). Idempotent: nothing when a sample place exists. Param: since (their valid_from).
WITH grids AS (
    SELECT g.code, g.parent_code, g.geom, row_number() OVER (ORDER BY g.code) AS n
    FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
),
picked AS (
    SELECT row_number() OVER (ORDER BY code) AS n, code, parent_code,
           ST_GeometryN(ST_GeneratePoints(geom, 1, CAST(n AS integer)), 1) AS pt
    FROM grids WHERE n % 7 = 0 ORDER BY code LIMIT 200
),
kinds AS (
    SELECT ARRAY['enterprise', 'shop', 'restaurant', 'rental_housing', 'enterprise', 'shop', 'construction_site',
                 'market', 'restaurant', 'rental_housing', 'school', 'hazardous_goods_store', 'hotel',
                 'entertainment_venue', 'care_home', 'shop'] AS cats,
           ARRAY['企业', '商铺', '餐饮店', '出租房', '企业', '商铺', '建筑工地', '农贸市场', '餐饮店', '出租房',
                 '学校', '危化品仓库', '旅馆', '娱乐场所', '养老院', '商铺'] AS names
)
INSERT INTO place (code, version, valid_from, category, name, address, licences, responsible, contact, risk_level,
                   location, grid_code, community_code, street_code, district_code, zone_code, changed_by, reason)
SELECT 'SP' || lpad(p.n::text, 4, '0'), 1, CAST(:since AS timestamptz), k.cats[1 + p.n % 16],
       s.name || k.names[1 + p.n % 16] || ' ' || p.n, c.name || ' ' || (p.n % 97 + 1) || ' 号',
       CASE WHEN k.cats[1 + p.n % 16] IN ('rental_housing', 'school') THEN '{}'
            ELSE ARRAY['JY' || lpad((330503000000 + p.n)::text, 14, '0')] END,
       NULL, NULL,
       CASE WHEN k.cats[1 + p.n % 16] IN ('hazardous_goods_store', 'construction_site') THEN 'high'
            WHEN p.n % 5 = 0 THEN 'medium' ELSE 'low' END,
       p.pt, p.code, c.code, s.code, s.parent_code,
       (SELECT z.code FROM area z WHERE z.kind = 'zone' AND z.valid_to IS NULL AND ST_Covers(z.geom, p.pt)
        ORDER BY z.code LIMIT 1),
       'sample', 'the sample places register'
FROM picked p CROSS JOIN kinds k
JOIN area c ON c.valid_to IS NULL AND c.code = p.parent_code
JOIN area s ON s.valid_to IS NULL AND s.code = c.parent_code
WHERE NOT EXISTS (SELECT 1 FROM place WHERE code LIKE 'SP%')
