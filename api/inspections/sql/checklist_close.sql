UPDATE checklist SET valid_to = :ts WHERE id = ANY(CAST(:ids AS int[]))
