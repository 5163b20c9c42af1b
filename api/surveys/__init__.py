"""Resident satisfaction surveys (满意度测评, seed 004): a street's residents score its work on a
template of dimensions × indicators (the default: Gulou's 4 × 17, :mod:`.template`), once per
phone per survey period (:mod:`.periods`, :mod:`.answers`); the scores with their confidence
intervals (:mod:`.scores`); the follow-up items (整改事项) of the lowest indicators
(:mod:`.followups`); and the street's signed poster (:mod:`.poster`).
"""
