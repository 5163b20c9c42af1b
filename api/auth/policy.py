"""The one permission table: named capabilities -> the roles that hold them, and how far.

Every route declares one capability (``Access(Capability.READ_MAP)``), every visibility
filter asks :func:`reach` what the caller may see through a capability, and the browser
asks ``/api/auth/me`` for the caller's capabilities. Nothing else keeps a list of roles.

A role holds a capability with a *reach*:

* ``AREA``: over the areas it was granted on, and everything under them;
* ``OWN_UNIT``: only what concerns the caller's own enforcement unit (officers);
* ``OWN``: only what the caller did themselves (a grid worker's own patrols).

``admin`` holds every capability everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.auth.principal import Principal

# ``operator``: the monitoring's account (a Prometheus scraper), holding READ_METRICS and nothing else;
# ``leader`` (领导): reads KPIs, surveys and star ratings of its areas, and adjusts star ratings
ROLES = ("admin", "dispatcher", "grid_manager", "grid_worker", "officer", "analyst", "operator", "leader")
AREA = "area"
OWN_UNIT = "own_unit"
OWN = "own"


class Capability(StrEnum):
    SESSION = "session"                          # who am I, log out
    READ_MAP = "read_map"                        # area layers, workstations
    READ_INCIDENTS = "read_incidents"            # incident lists and items (coarse without details)
    READ_INCIDENT_DETAILS = "read_incident_details"  # exact place and time, description, case file
    READ_CONTACT = "read_contact"                # reporters' contact details (audited)
    PREVIEW_ROUTING = "preview_routing"          # where would a report here go?
    READ_UNITS = "read_units"                    # units with live positions
    REPORT_UNIT_POSITION = "report_unit_position"  # a unit's GPS fix and status
    REPORT_PATROL = "report_patrol"              # file reports with source grid_worker
    REPORT_HOTLINE = "report_hotline"            # file reports with source hotline
    SET_PRIORITY = "set_priority"                # give a report a priority other than normal
    READ_AUDIT = "read_audit"                    # the audit log
    WORK_DESK = "work_desk"                      # triage, dispatch, escalate, close: the owning desk
    DISPATCH_UNITS = "dispatch_units"            # send, add and reassign enforcement units
    WORK_ASSIGNMENTS = "work_assignments"        # accept, on scene, report back (回单), return
    VERIFY_CASES = "verify_cases"                # check a handled case on the ground (核查)
    SUPERVISE_CASES = "supervise_cases"          # supervision notes (督办)
    EDIT_AREAS = "edit_areas"                    # split, merge, reshape, move, retire areas; rosters
    MANAGE_CALENDAR = "manage_calendar"          # the official holiday schedules: see them, load a year's
    READ_METRICS = "read_metrics"                # Prometheus metrics at /metrics: activity, never an incident
    READ_KPIS = "read_kpis"                      # KPI figures, trends, their drill-down lists and exports
    READ_SURVEYS = "read_surveys"                # satisfaction survey scores with their counts, periods
    MANAGE_SURVEYS = "manage_surveys"            # open and close survey periods, follow-up items (整改事项)
    READ_PLACES = "read_places"                  # the places register and grid aggregates (民情地图), no contact
    EDIT_PLACES = "edit_places"                  # add, change, retire and import places; set grid aggregates
    READ_PLACE_CONTACT = "read_place_contact"    # a place's responsible person's contact (audited)
    READ_PATROL_TRACKS = "read_patrol_tracks"    # grid workers' patrol tracks and their coverage (巡查)
    PLAN_INSPECTIONS = "plan_inspections"        # plan a joint team's inspections of a zone for a day
    WORK_INSPECTIONS = "work_inspections"        # the visit on the phone: arrive, checklists, photos, findings
    MANAGE_CHECKLISTS = "manage_checklists"      # the departments' checklists per place category (versions)
    READ_INSPECTIONS = "read_inspections"        # plans, visits, the places due and the figures
    READ_STARS = "read_stars"                    # monthly star ratings of workstations and units (星级)
    ADJUST_STARS = "adjust_stars"                # a leader's adjustment of a rating, with a reason (audited)
    MANAGE_STARS = "manage_stars"                # compute a month's ratings; the star configuration (admin)


_STAFF = ("dispatcher", "grid_manager", "grid_worker", "officer", "analyst")

POLICY: dict[Capability, dict[str, str]] = {
    Capability.SESSION: {**dict.fromkeys(_STAFF, AREA), "leader": AREA},
    Capability.READ_MAP: dict.fromkeys(_STAFF, AREA),  # officers navigate by the map
    Capability.READ_INCIDENTS: {"dispatcher": AREA, "grid_manager": AREA, "grid_worker": AREA,
                                "analyst": AREA, "officer": OWN_UNIT},
    Capability.READ_INCIDENT_DETAILS: {"dispatcher": AREA, "grid_manager": AREA, "grid_worker": AREA,
                                       "officer": OWN_UNIT},
    Capability.READ_CONTACT: {"dispatcher": AREA, "grid_worker": AREA},
    Capability.PREVIEW_ROUTING: {"dispatcher": AREA, "grid_manager": AREA, "grid_worker": AREA},
    Capability.READ_UNITS: {"dispatcher": AREA, "officer": OWN_UNIT},
    Capability.REPORT_UNIT_POSITION: {"dispatcher": AREA, "officer": OWN_UNIT},
    Capability.REPORT_PATROL: {"grid_worker": AREA},
    Capability.REPORT_HOTLINE: {"dispatcher": AREA},
    Capability.SET_PRIORITY: {"dispatcher": AREA, "grid_worker": AREA},
    Capability.READ_AUDIT: {},
    # grid workers are the desk of grid-tier matters (微事不出格): their grant is one grid, so
    # the owner check (api.workflow.cases) leaves them nothing above that tier
    Capability.WORK_DESK: {"dispatcher": AREA, "grid_worker": AREA},
    # sending units needs seeing them: the command room, not the grid worker
    Capability.DISPATCH_UNITS: {"dispatcher": AREA},
    # dispatchers record a unit's steps on its behalf when it reports by radio
    Capability.WORK_ASSIGNMENTS: {"dispatcher": AREA, "officer": OWN_UNIT},
    Capability.VERIFY_CASES: {"dispatcher": AREA, "grid_worker": AREA},
    Capability.SUPERVISE_CASES: {"dispatcher": AREA, "analyst": AREA},
    # grid managers redraw the areas whose parent lies in their grant (api.areas.editing)
    Capability.EDIT_AREAS: {"grid_manager": AREA},
    # one calendar for the whole deployment: administrators only (the district desks are told
    # when its official data runs out, and see each provisional deadline on its case)
    Capability.MANAGE_CALENDAR: {},
    # request counts and latencies, the pool, the scheduler, live clients: no incident, but how busy
    # the desks are. A scraper is not a person: the ``operator`` role holds this and nothing else
    # (not even SESSION), so the long-lived token a Prometheus server keeps (``gridgov user token``)
    # can do nothing else; no staff role holds it (admin does, as everything)
    Capability.READ_METRICS: {"operator": AREA},
    # KPIs count the cases in the holder's areas (api.kpi): the command room, analysts, grid managers
    Capability.READ_KPIS: {"dispatcher": AREA, "analyst": AREA, "grid_manager": AREA, "leader": AREA},
    # a street's survey scores with their counts: the leaders' and the analysts' (the public sees aggregates)
    Capability.READ_SURVEYS: {"dispatcher": AREA, "grid_manager": AREA, "analyst": AREA, "leader": AREA},
    Capability.MANAGE_SURVEYS: {"analyst": AREA},
    # the ground a grid knows (底数清、情况明): every desk of the area reads it; officers see the map only
    Capability.READ_PLACES: {"dispatcher": AREA, "grid_manager": AREA, "grid_worker": AREA, "analyst": AREA},
    # kept by those who walk the grid and those who draw it
    Capability.EDIT_PLACES: {"grid_manager": AREA, "grid_worker": AREA},
    # a person's phone number: as reporters' contacts, those who call people back
    Capability.READ_PLACE_CONTACT: {"dispatcher": AREA, "grid_worker": AREA},
    # where a person walked: their supervisors over the grid, and the worker their own (never public)
    Capability.READ_PATROL_TRACKS: {"dispatcher": AREA, "grid_manager": AREA, "grid_worker": OWN},
    # 综合查一次: the station's dispatcher plans the joint team's day; the team's officers work
    # their own unit's visits (a dispatcher records them for the zone); checklists are deployment-wide
    Capability.PLAN_INSPECTIONS: {"dispatcher": AREA},
    Capability.WORK_INSPECTIONS: {"officer": OWN_UNIT, "dispatcher": AREA},
    Capability.MANAGE_CHECKLISTS: {"analyst": AREA},
    Capability.READ_INSPECTIONS: {"dispatcher": AREA, "analyst": AREA, "grid_manager": AREA},
    # star ratings (api.stars) of the stations and units in the holder's areas: those who read the KPIs
    # they are made of; a leader (领导) may adjust one, with a reason; computing and configuring: admin
    Capability.READ_STARS: {"leader": AREA, "dispatcher": AREA, "analyst": AREA, "grid_manager": AREA},
    Capability.ADJUST_STARS: {"leader": AREA},
    Capability.MANAGE_STARS: {},
}


def roles_with(capability: Capability) -> frozenset[str]:
    """The roles holding ``capability`` (admin always among them)."""
    return frozenset(POLICY[capability]) | {"admin"}


@dataclass(frozen=True)
class Reach:
    """How far a caller sees through one capability; bound into the SQL as three parameters.

    ``everywhere`` (admin) sees all; otherwise what lies in one of ``areas`` (or under one),
    or concerns ``unit``, or (``own``) what the caller did themselves. None means nothing.
    """

    everywhere: bool = False
    areas: tuple[str, ...] = ()
    unit: str | None = None
    own: bool = False

    @property
    def anything(self) -> bool:
        return self.everywhere or bool(self.areas) or self.unit is not None or self.own

    def params(self, prefix: str = "") -> dict[str, bool | list[str] | str | None]:
        return {f"{prefix}everywhere": self.everywhere, f"{prefix}scope": list(self.areas),
                f"{prefix}unit": self.unit}

    def covers(self, area_codes: Iterable[str], unit_codes: Iterable[str] = ()) -> bool:
        """Whether a thing in these areas (any of its ancestors listed) or of these units is in reach."""
        if self.everywhere:
            return True
        if set(area_codes) & set(self.areas):
            return True
        return self.unit is not None and self.unit in set(unit_codes)


NOWHERE = Reach()


def reach(who: Principal, capability: Capability) -> Reach:
    """What ``who`` may see or act on through ``capability``."""
    if who.is_admin:
        return Reach(everywhere=True)
    holders = POLICY[capability]
    areas = sorted({g.area_code for g in who.grants if holders.get(g.role) == AREA})
    own = any(holders.get(g.role) == OWN_UNIT for g in who.grants) and who.unit_code is not None
    mine = any(holders.get(g.role) == OWN for g in who.grants)
    return Reach(areas=tuple(areas), unit=who.unit_code if own else None, own=mine)


def holds(who: Principal, capability: Capability) -> bool:
    """Whether ``who`` holds ``capability`` anywhere (the route-level check)."""
    return who.is_admin or any(g.role in POLICY[capability] for g in who.grants)


def capabilities_of(who: Principal) -> list[str]:
    """The capabilities ``who`` can use, for ``/api/auth/me`` and the browser: held, and reaching
    something (an officer account not linked to a unit reaches no unit's work)."""
    return sorted(c.value for c in Capability if holds(who, c) and reach(who, c).anything)
