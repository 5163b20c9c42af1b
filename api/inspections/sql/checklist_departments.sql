-- the departments with a current checklist
SELECT DISTINCT department_code AS code FROM checklist WHERE valid_to IS NULL ORDER BY 1
