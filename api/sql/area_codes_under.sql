-- Every code ever used with this prefix, retired ones included (codes are never reused). Params: prefix.
SELECT DISTINCT code FROM area WHERE starts_with(code, :prefix)
