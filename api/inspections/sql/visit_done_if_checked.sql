-- the visit is done when every department of it has checked
UPDATE inspection_visit v SET status = 'done', done_at = :at
WHERE v.id = :id AND v.status <> 'done'
  AND NOT EXISTS (SELECT 1 FROM unnest(v.departments) d(code)
                  WHERE NOT EXISTS (SELECT 1 FROM inspection_check c WHERE c.visit_id = v.id AND c.department_code = d.code))
