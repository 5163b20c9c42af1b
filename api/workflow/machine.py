"""The transition table of a case: state × action → next state, who may, what it needs.

Pure: no database, no web. The case service (``api.workflow.cases``) asks :func:`step`
for every change and writes the event in the same transaction; the API answers 409 with
:func:`allowed_actions` when the table says no. The pages ask the API which actions the
caller may take on a case and draw exactly those buttons.

Who may act is a :class:`~api.auth.policy.Capability` (so the roles come from the one
permission table), or one of two actors that hold no account: ``REPORTER`` (the resident
with the tracking code and token: me-too, rating) and ``SYSTEM`` (the deadline scheduler,
an unsatisfied rating reopening the case).

Targets are states, or ``STAY`` (the action is recorded in the case file and the state
does not move: a supervision note, a second unit accepting a joint case) or ``PREVIOUS``
(resume returns to the state the case was suspended in).

>>> step("received", "triage").target
'triaged'
>>> step("closed", "dispatch") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

from api import i18n
from api.auth.policy import Capability

# ---------------------------------------------------------------- states
RECEIVED, TRIAGED, DISPATCHED, ACCEPTED, ON_SCENE = "received", "triaged", "dispatched", "accepted", "on_scene"
HANDLED, VERIFIED, CLOSED, RETURNED, REOPENED = "handled", "verified", "closed", "returned", "reopened"
SUSPENDED, VOID, DUPLICATE, NOT_RESPONSIBLE = "suspended", "void", "duplicate", "not_responsible"

STATES = (RECEIVED, TRIAGED, DISPATCHED, ACCEPTED, ON_SCENE, HANDLED, VERIFIED, CLOSED,
          RETURNED, REOPENED, SUSPENDED, VOID, DUPLICATE, NOT_RESPONSIBLE)
ENDED = frozenset({CLOSED, VOID, DUPLICATE, NOT_RESPONSIBLE})  # off the live queue
OPEN = tuple(s for s in STATES if s not in ENDED)
IN_FIELD = (DISPATCHED, ACCEPTED, ON_SCENE)  # units are working on it

STAY = "=stay"
PREVIOUS = "=previous"

# ---------------------------------------------------------------- tiers
TIERS = ("grid", "community", "zone", "street", "district")  # 微事不出格 … 矛盾不上交

# ---------------------------------------------------------------- actors without an account
REPORTER = "reporter"
SYSTEM = "system"

# what an action needs besides the actor (checked by the service; named in 422s)
NOTE, REASON, UNITS, DEADLINE, DUPLICATE_OF, DEPARTMENT = (
    "note", "reason", "units", "deadline", "duplicate_of", "department")

DESK = Capability.WORK_DESK
SEND = Capability.DISPATCH_UNITS
FIELD = Capability.WORK_ASSIGNMENTS
VERIFY = Capability.VERIFY_CASES
SUPERVISE = Capability.SUPERVISE_CASES


@dataclass(frozen=True)
class Rule:
    action: str
    source: str
    target: str                 # a state, STAY or PREVIOUS
    actor: Capability | str     # a capability, REPORTER or SYSTEM
    requires: frozenset[str] = frozenset()

    # the button's words come from the translation catalogues (action.<action>), as on the pages
    @property
    def label_zh(self) -> str:
        return i18n.t(f"action.{self.action}", "zh")

    @property
    def label_en(self) -> str:
        return i18n.t(f"action.{self.action}", "en")


def _rules(action, sources, target, actor, requires=()):
    return [Rule(action, s, target, actor, frozenset(requires)) for s in sources]


_TABLE: list[Rule] = [
    # 分析研判: the desk triages, or closes a report that is not a case
    *_rules("triage", (RECEIVED, RETURNED, REOPENED), TRIAGED, DESK, ()),
    *_rules("void", (RECEIVED,), VOID, DESK, (REASON,)),
    *_rules("not_responsible", (RECEIVED,), NOT_RESPONSIBLE, DESK, (REASON,)),
    *_rules("merge", (RECEIVED, TRIAGED), DUPLICATE, DESK, (DUPLICATE_OF,)),
    *_rules("unmerge", (DUPLICATE,), RECEIVED, DESK, (REASON,)),
    # tiers: escalate (with a reason) to the next tier's desk; the desk can hand it down
    *_rules("escalate", (RECEIVED, TRIAGED, RETURNED, REOPENED), RECEIVED, DESK, (REASON,)),
    *_rules("hand_down", (RECEIVED, TRIAGED), RECEIVED, DESK, (REASON,)),
    # 街道吹哨、部门报到: the department called to a district-tier case reports in
    *_rules("answer", (RECEIVED, TRIAGED), STAY, DESK, ()),
    # 分流交办 / 调度指挥
    *_rules("dispatch", (TRIAGED, RETURNED, REOPENED), DISPATCHED, SEND, (UNITS,)),
    *_rules("reinforce", IN_FIELD, STAY, SEND, (UNITS,)),
    *_rules("reassign", (DISPATCHED, ACCEPTED, RETURNED), DISPATCHED, SEND, (UNITS, REASON)),
    *_rules("resolve", (TRIAGED, REOPENED), HANDLED, DESK, (NOTE,)),
    # the unit's phone
    *_rules("accept", (DISPATCHED,), ACCEPTED, FIELD, ()),
    *_rules("accept", (ACCEPTED, ON_SCENE), STAY, FIELD, ()),
    *_rules("arrive", (ACCEPTED,), ON_SCENE, FIELD, ()),
    *_rules("arrive", (ON_SCENE,), STAY, FIELD, ()),
    *_rules("handle", (ACCEPTED, ON_SCENE), HANDLED, FIELD, (NOTE,)),
    # "not ours": back to the desk; in a joint case the other units carry on (service: STAY)
    *_rules("return", (DISPATCHED, ACCEPTED, ON_SCENE), RETURNED, FIELD, (REASON,)),
    # 核查, 销号
    *_rules("verify", (HANDLED,), VERIFIED, VERIFY, (NOTE,)),
    *_rules("reject", (HANDLED,), REOPENED, VERIFY, (REASON,)),
    *_rules("close", (VERIFIED,), CLOSED, DESK, ()),
    *_rules("reopen", (VERIFIED, CLOSED), REOPENED, DESK, (REASON,)),
    # an unsatisfied rating (1 or 2 stars) sends the case back to the desk
    *_rules("reopen_on_rating", (CLOSED,), REOPENED, SYSTEM, (REASON,)),
    # a joint inspection's re-check of the place passed (api.inspections.findings): the finding is rectified
    *_rules("close_on_recheck", tuple(s for s in OPEN if s != SUSPENDED), CLOSED, SYSTEM, (REASON,)),
    # pause
    *_rules("suspend", (TRIAGED, DISPATCHED, ACCEPTED, ON_SCENE, RETURNED, REOPENED), SUSPENDED, DESK,
            (REASON,)),
    *_rules("resume", (SUSPENDED,), PREVIOUS, DESK, ()),
    # 统一督办
    *_rules("supervise", OPEN, STAY, SUPERVISE, (NOTE,)),
    *_rules("extend", OPEN, STAY, DESK, (REASON, DEADLINE)),
    *_rules("flag_near_due", OPEN, STAY, SYSTEM, ()),
    *_rules("flag_overdue", OPEN, STAY, SYSTEM, ()),
    *_rules("flag_answer_overdue", (RECEIVED, TRIAGED), STAY, SYSTEM, ()),
    # the resident
    *_rules("me_too", OPEN, STAY, REPORTER, ()),
    *_rules("rate", (CLOSED,), STAY, REPORTER, ()),
]

TABLE: dict[tuple[str, str], Rule] = {}
for _rule in _TABLE:
    assert (_rule.source, _rule.action) not in TABLE, f"two rules for {_rule.source} × {_rule.action}"
    assert _rule.source in STATES and (_rule.target in STATES or _rule.target in (STAY, PREVIOUS))
    TABLE[(_rule.source, _rule.action)] = _rule

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.action for r in _TABLE))
RESUMABLE = frozenset(r.source for r in _TABLE if r.action == "suspend")


def step(state: str, action: str) -> Rule | None:
    """The rule for ``action`` in ``state``, or None when the table does not allow it."""
    return TABLE.get((state, action))


def next_state(state: str, action: str, *, suspended_from: str | None = None) -> str:
    """Where ``action`` takes a case in ``state``. Raises ``KeyError`` when the table says no."""
    rule = TABLE[(state, action)]
    if rule.target == STAY:
        return state
    if rule.target == PREVIOUS:
        if suspended_from not in RESUMABLE:
            raise KeyError(f"cannot resume to {suspended_from!r}")
        return suspended_from
    return rule.target


def actions_from(state: str) -> list[Rule]:
    """Every rule that starts in ``state`` (all actors)."""
    return [r for (s, _), r in TABLE.items() if s == state]


def allowed_actions(state: str, may) -> list[str]:
    """The actions in ``state`` for an actor; ``may(rule)`` says whether it may act on that rule."""
    return [r.action for r in actions_from(state) if may(r)]


def as_document() -> dict:
    """The table for ``GET /api/workflow/machine`` and the pages' button labels."""
    return {
        "states": list(STATES), "open_states": list(OPEN), "tiers": list(TIERS),
        "rules": [{"action": r.action, "from": r.source, "to": r.target, "actor": str(r.actor),
                   "requires": sorted(r.requires), "label_zh": r.label_zh, "label_en": r.label_en}
                  for r in _TABLE],
    }
