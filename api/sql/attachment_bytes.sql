-- A stored photo by its hash (the caller has checked that it may be shown).
SELECT a.bytes, a.media_type FROM attachment a WHERE a.sha256 = :sha256
