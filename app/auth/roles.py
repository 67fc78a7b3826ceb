"""The five roles of SIPROC and their BPMN lanes: the lane name the editor proposes and the names it accepts."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..core.text import normalize


@dataclass(frozen=True)
class Role:
    code: str
    label: object
    lane: str  # the lane name the diagram editor writes for this role (diagrams are in Spanish)
    lane_names: tuple[str, ...]  # every lane name read as this role, normalised
    is_central: bool = False


OFICIAL = Role("oficial", _l("Oficial consular"), "Oficial consular",
               ("oficial consular", "oficial", "oficiales consulares"))
SUPERVISOR = Role("supervisor", _l("Supervisor (cónsul)"), "Supervisor",
                  ("supervisor", "supervisor (consul)", "consul"))
ANALISTA = Role("analista", _l("Analista central"), "Analista central",
                ("analista central", "analista"), is_central=True)
GESTOR = Role("gestor", _l("Gestor de procesos"), "Gestor de procesos",
              ("gestor de procesos", "gestor"), is_central=True)
ADMIN = Role("admin", _l("Administrador"), "Administrador",
             ("administrador", "admin"), is_central=True)

ROLES = {role.code: role for role in (OFICIAL, SUPERVISOR, ANALISTA, GESTOR, ADMIN)}


_LANE_INDEX = {name: role.code for role in ROLES.values() for name in (role.code, *role.lane_names)}


def role_for_lane(lane_name: str | None) -> str | None:
    """Role code for a BPMN lane name ('Oficial consular' -> 'oficial'); None when unknown."""
    if not lane_name:
        return None
    return _LANE_INDEX.get(normalize(lane_name))


def label(code: str) -> str:
    role = ROLES.get(code)
    return str(role.label) if role else code
