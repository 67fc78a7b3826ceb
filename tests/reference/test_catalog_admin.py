"""Administrators maintain the reference catalogues in the browser; rows are deactivated, never deleted."""
import re

import pytest

from app.extensions import db
from app.reference.admin import CATALOGUES
from app.reference.models import (
    CaseCategory,
    Department,
    Institution,
    LegalArea,
    Municipality,
    Office,
    VulnerabilityMarker,
)
from app.reference.services import option_choices
from tests.conftest import flashes
from tests.helpers import snapshot

BASE = "/admin/catalogos"
MODELS = {
    "oficinas": Office,
    "departamentos": Department,
    "municipios": Municipality,
    "instituciones": Institution,
    "categorias": CaseCategory,
    "areas-legales": LegalArea,
    "vulnerabilidades": VulnerabilityMarker,
}
NEW_ROWS = {
    "oficinas": {"code": "PHX", "name": "Consulado de Honduras en Phoenix", "kind": "consulate", "country": "US",
                 "state_or_department": "Arizona", "city": "Phoenix", "timezone": "America/Phoenix",
                 "confidence": "medium"},
    "departamentos": {"code": "19", "name": "Departamento de prueba"},
    "municipios": {"code": "0829", "name": "Municipio de prueba"},
    "instituciones": {"code": "CASA-TAP", "short_name": "Casa del Migrante", "kind": "ngo", "country": "MX",
                      "name": "Albergue Casa del Migrante de Tapachula", "categories": ["RET", "NNA"]},
    "categorias": {"code": "EXT", "name": "Extorsión", "name_en": "Extortion",
                   "typical_subtypes": "cobro de piso\nsecuestro virtual", "typical_referrals": ""},
    "areas-legales": {"code": "FAMILIA", "name": "Familia", "name_en": "Family"},
    "vulnerabilidades": {"code": "APATRIDIA", "name": "Persona en riesgo de apatridia", "name_en": "Statelessness"},
}
EXISTING = {"oficinas": "TAP", "departamentos": "08", "municipios": "0801", "instituciones": "OIM",
            "categorias": "DET", "areas-legales": "PENAL", "vulnerabilidades": "MUJER"}
OPTION_SOURCE = {"municipios": "municipalities", "instituciones": "institutions", "categorias": "case_categories",
                 "areas-legales": "legal_areas", "vulnerabilidades": "vulnerability_markers"}
ERROR = re.compile(r'<div class="invalid-feedback d-block">(.*?)</div>', re.S)


def find(slug, code):
    db.session.expire_all()
    model = MODELS[slug]
    return db.session.scalar(db.select(model).where(model.code == code))


def edit_data(slug, row, **changes):
    """What the browser sends back from the edit form of a row, with some changes."""
    data = {name: getattr(row, name) or "" for name in CATALOGUES[slug].fields}
    if "categories" in data:
        data["categories"] = [code for code in data["categories"].split("|") if code]
    for name in ("typical_subtypes", "typical_referrals"):
        if name in data:
            data[name] = data[name].replace("|", "\n")
    return {**data, **changes}


def field_errors(response) -> list[str]:
    return [re.sub(r"\s+", " ", e).strip() for e in ERROR.findall(response.get_data(as_text=True))]


def test_the_registry_covers_every_catalogue():
    assert set(CATALOGUES) == set(MODELS)
    assert all(CATALOGUES[slug].model is model for slug, model in MODELS.items())


def test_admin_sees_the_catalogues_in_the_menu(login):
    page = login("admin").get("/casos/").get_data(as_text=True)
    assert f'href="{BASE}/"' in page and "Catálogos" in page
    index = login("admin").get(f"{BASE}/")
    assert index.status_code == 200
    for slug in MODELS:
        assert f'href="{BASE}/{slug}/"' in index.get_data(as_text=True)


@pytest.mark.parametrize("username", ["oficial.tap", "consul.tap", "analista", "gestor"])
def test_other_roles_have_no_menu_link(login, username):
    assert f'href="{BASE}/"' not in login(username).get("/casos/").get_data(as_text=True)


@pytest.mark.parametrize("slug", list(MODELS))
def test_admin_adds_renames_deactivates_and_reactivates_a_row(login, slug):
    admin = login("admin")
    data = NEW_ROWS[slug]
    assert admin.get(f"{BASE}/{slug}/nuevo").status_code == 200

    response = admin.post(f"{BASE}/{slug}/nuevo", data=data)
    assert response.status_code == 302, field_errors(response)
    listing = admin.get(response.headers["Location"])
    assert f"Se agregó «{data['code']} — {data['name']}»." in flashes(listing.get_data(as_text=True))
    assert f'data-key="{data["code"]}"' in listing.get_data(as_text=True)
    row = find(slug, data["code"])
    assert row.name == data["name"] and row.is_active

    form = admin.get(f"{BASE}/{slug}/{data['code']}/editar")
    assert form.status_code == 200 and data["name"] in form.get_data(as_text=True)
    renamed = edit_data(slug, row, name=data["name"] + " (renombrado)", code="OTRO")
    response = admin.post(f"{BASE}/{slug}/{data['code']}/editar", data=renamed)
    assert response.status_code == 302, field_errors(response)
    assert flashes(admin.get(response.headers["Location"]).get_data(as_text=True)) == [
        f"Se guardaron los cambios de «{data['code']} — {data['name']} (renombrado)»."]
    row = find(slug, data["code"])  # the code is fixed: "OTRO" was ignored
    assert row.name.endswith("(renombrado)") and find(slug, "OTRO") is None

    response = admin.post(f"{BASE}/{slug}/{data['code']}/desactivar", data={"buscar": data["code"]})
    assert response.status_code == 302 and f"buscar={data['code']}" in response.headers["Location"]
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert any(m.startswith("Se desactivó") for m in flashes(page)) and "Inactivo" in page
    assert find(slug, data["code"]).is_active is False

    assert admin.post(f"{BASE}/{slug}/{data['code']}/reactivar").status_code == 302
    assert find(slug, data["code"]).is_active is True


@pytest.mark.parametrize("slug", list(MODELS))
def test_admin_renames_a_seeded_row_keeping_its_other_fields(login, slug):
    row = find(slug, EXISTING[slug])
    before = snapshot(MODELS[slug])
    response = login("admin").post(f"{BASE}/{slug}/{row.code}/editar", data=edit_data(slug, row, name="Nuevo nombre"))
    assert response.status_code == 302, field_errors(response)
    renamed = find(slug, EXISTING[slug])
    assert renamed.name == "Nuevo nombre"
    after = snapshot(MODELS[slug])
    assert len(after) == len(before) and len(set(before) - set(after)) == 1  # only that row changed


def test_new_office_fields_are_saved(login):
    assert login("admin").post(f"{BASE}/oficinas/nuevo", data={**NEW_ROWS["oficinas"], "code": " phx "}).status_code \
        == 302
    office = find("oficinas", "PHX")  # trimmed and upper-cased
    assert (office.kind, office.country, office.timezone, office.city, office.confidence) == \
        ("consulate", "US", "America/Phoenix", "Phoenix", "medium")


def test_new_municipality_belongs_to_the_department_of_its_code(login):
    assert login("admin").post(f"{BASE}/municipios/nuevo", data=NEW_ROWS["municipios"]).status_code == 302
    assert find("municipios", "0829").department_code == "08"


def test_institution_categories_and_category_lists_round_trip(login):
    admin = login("admin")
    assert admin.post(f"{BASE}/instituciones/nuevo", data=NEW_ROWS["instituciones"]).status_code == 302
    assert find("instituciones", "CASA-TAP").categories == "RET|NNA"
    assert admin.post(f"{BASE}/categorias/nuevo", data=NEW_ROWS["categorias"]).status_code == 302
    category = find("categorias", "EXT")
    assert category.typical_subtypes == "cobro de piso|secuestro virtual" and category.typical_referrals is None
    page = admin.get(f"{BASE}/categorias/EXT/editar").get_data(as_text=True)
    assert "cobro de piso\nsecuestro virtual" in page


def test_list_filters_by_text_ignoring_accents_and_by_state(login):
    admin = login("admin")
    page = admin.get(f"{BASE}/municipios/?buscar=atlantida").get_data(as_text=True)
    assert "La Ceiba" in page and "Distrito Central" not in page
    assert admin.post(f"{BASE}/municipios/0101/desactivar").status_code == 302
    inactive = admin.get(f"{BASE}/municipios/?estado=inactivos").get_data(as_text=True)
    assert "La Ceiba" in inactive and "Distrito Central" not in inactive and "1 registro" in inactive
    active = admin.get(f"{BASE}/municipios/?estado=activos&buscar=atlantida").get_data(as_text=True)
    assert "La Ceiba" not in active and "El Porvenir" in active


def test_long_lists_are_paged(login):
    admin = login("admin")
    first = admin.get(f"{BASE}/municipios/").get_data(as_text=True)
    assert "298 registros" in first and first.count("data-key=") == 50
    assert admin.get(f"{BASE}/municipios/?pagina=999").status_code == 200


def test_deactivated_institution_is_no_longer_offered(login):
    assert "OIM" in dict(option_choices("institutions"))
    assert login("admin").post(f"{BASE}/instituciones/OIM/desactivar").status_code == 302
    db.session.expire_all()
    assert "OIM" not in dict(option_choices("institutions"))
    assert find("instituciones", "OIM") is not None


@pytest.mark.parametrize("slug", list(OPTION_SOURCE))
def test_every_catalogue_offers_only_active_rows(login, slug):
    code = EXISTING[slug]
    assert code in dict(option_choices(OPTION_SOURCE[slug]))
    assert login("admin").post(f"{BASE}/{slug}/{code}/desactivar").status_code == 302
    db.session.expire_all()
    assert code not in dict(option_choices(OPTION_SOURCE[slug]))


def test_municipalities_of_a_deactivated_department_are_not_offered(login):
    assert login("admin").post(f"{BASE}/departamentos/08/desactivar").status_code == 302
    db.session.expire_all()
    offered = dict(option_choices("municipalities"))
    assert "0801" not in offered and "0101" in offered


def test_a_row_that_cases_use_survives_deactivation(login):
    from tests.helpers import register_case

    instance = register_case(login("oficial.tap"))
    db.session.expire_all()
    case_id = db.session.get(type(instance), instance.id).case_id
    admin = login("admin")
    assert admin.post(f"{BASE}/categorias/RET/desactivar").status_code == 302
    assert admin.post(f"{BASE}/oficinas/TAP/desactivar").status_code == 302
    assert find("categorias", "RET") is not None
    page = login("oficial.tap").get(f"/casos/{case_id}")
    assert page.status_code == 200 and "Retorno y deportación" in page.get_data(as_text=True)


# --- who may reach the pages -------------------------------------------------------------------

def catalogue_requests():
    yield "get", f"{BASE}/"
    for slug, code in EXISTING.items():
        yield "get", f"{BASE}/{slug}/"
        yield "get", f"{BASE}/{slug}/nuevo"
        yield "post", f"{BASE}/{slug}/nuevo"
        yield "get", f"{BASE}/{slug}/{code}/editar"
        yield "post", f"{BASE}/{slug}/{code}/editar"
        yield "post", f"{BASE}/{slug}/{code}/desactivar"
        yield "post", f"{BASE}/{slug}/{code}/reactivar"


@pytest.mark.parametrize("username", ["oficial.tap", "analista"])
def test_non_admins_are_refused_everywhere(login, username):
    client = login(username)
    before = {slug: snapshot(model) for slug, model in MODELS.items()}
    for method, url in catalogue_requests():
        data = {**NEW_ROWS[url.split("/")[3]], "name": "Cambiado"} if method == "post" else None
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, (method, url)
    assert {slug: snapshot(model) for slug, model in MODELS.items()} == before


@pytest.mark.parametrize("username", ["consul.tap", "gestor"])
def test_other_roles_are_refused_too(login, username):
    client = login(username)
    assert client.get(f"{BASE}/").status_code == 403
    assert client.post(f"{BASE}/oficinas/TAP/desactivar").status_code == 403
    assert find("oficinas", "TAP").is_active


def test_anonymous_users_are_sent_to_login(client):
    response = client.post(f"{BASE}/oficinas/TAP/desactivar")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert find("oficinas", "TAP").is_active


def test_every_catalogue_endpoint_is_for_admins_only(app, users):
    from app.auth.policy import allows

    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("reference.")}
    assert endpoints == {"reference.index", "reference.rows", "reference.new", "reference.edit",
                         "reference.deactivate", "reference.reactivate"}
    with app.test_request_context():
        for endpoint in endpoints:
            assert [u for u in users.values() if allows(u, endpoint)] == [users["admin"]]


# --- bad input ------------------------------------------------------------------------------------

BAD_NEW = [
    ("oficinas", {"code": "TAP"}, "Ya existe «TAP — "),
    ("oficinas", {"code": "tap"}, "Ya existe «TAP — "),
    ("oficinas", {"name": "   "}, "Este campo es obligatorio."),
    ("oficinas", {"code": "TA P"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones"),
    ("oficinas", {"code": "TAP/2"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones"),
    ("oficinas", {"code": "-PHX"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones"),
    ("oficinas", {"code": "PHÑ"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones"),
    ("oficinas", {"code": ""}, "Este campo es obligatorio."),
    ("oficinas", {"timezone": "Mars/Olympus"}, "Zona horaria desconocida"),
    ("oficinas", {"timezone": "../../etc/passwd"}, "Zona horaria desconocida"),
    ("oficinas", {"timezone": ""}, "Este campo es obligatorio."),
    ("oficinas", {"country": "XX"}, "País desconocido"),
    ("oficinas", {"country": "INT"}, "País desconocido"),
    ("oficinas", {"kind": "embajada"}, "Tipo de oficina desconocido."),
    ("oficinas", {"name": "x" * 201}, "Debe tener como máximo 200 caracteres."),
    ("departamentos", {"code": "08"}, "Ya existe «08 — Francisco Morazán» con ese código."),
    ("departamentos", {"code": "8"}, "El código de departamento tiene 2 dígitos"),
    ("municipios", {"code": "0801"}, "Ya existe «0801 — Distrito Central» con ese código."),
    ("municipios", {"code": "801"}, "El código de municipio tiene 4 dígitos"),
    ("municipios", {"code": "08A1"}, "El código de municipio tiene 4 dígitos"),
    ("municipios", {"code": "1901"}, "No existe el departamento «19»"),
    ("municipios", {"name": ""}, "Este campo es obligatorio."),
    ("instituciones", {"code": "OIM"}, "Ya existe «OIM — "),
    ("instituciones", {"categories": ["RET", "NOPE"]}, "Categorías de caso desconocidas: NOPE."),
    ("instituciones", {"country": "ZZ"}, "País desconocido"),
    ("instituciones", {"short_name": ""}, "Este campo es obligatorio."),
    ("categorias", {"code": "DET"}, "Ya existe «DET — Privación de libertad» con ese código."),
    ("categorias", {"code": "EXT-1"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones bajos"),
    ("categorias", {"code": "EXTORSIONES1"}, "Debe tener como máximo 10 caracteres."),
    ("areas-legales", {"code": "PENAL"}, "Ya existe «PENAL — Penal» con ese código."),
    ("areas-legales", {"name": ""}, "Este campo es obligatorio."),
    ("vulnerabilidades", {"code": "MUJER"}, "Ya existe «MUJER — Mujer» con ese código."),
    ("vulnerabilidades", {"code": "con espacio"}, "Use solo letras mayúsculas sin tilde, dígitos y guiones bajos"),
]


@pytest.mark.parametrize("slug,changes,message", BAD_NEW)
def test_bad_new_rows_are_refused_in_spanish_and_nothing_is_saved(login, slug, changes, message):
    before = snapshot(MODELS[slug])
    response = login("admin").post(f"{BASE}/{slug}/nuevo", data={**NEW_ROWS[slug], **changes})
    assert response.status_code == 422
    assert any(message in error for error in field_errors(response)), field_errors(response)
    assert "Revise los campos marcados. No se guardó nada." in flashes(response.get_data(as_text=True))
    assert snapshot(MODELS[slug]) == before


def test_a_deactivated_code_is_not_reused(login):
    admin = login("admin")
    assert admin.post(f"{BASE}/areas-legales/PENAL/desactivar").status_code == 302
    response = admin.post(f"{BASE}/areas-legales/nuevo", data={"code": "PENAL", "name": "Penal otra vez"})
    assert response.status_code == 422
    assert "reactívelo en lugar de crearlo de nuevo" in " ".join(field_errors(response))


def test_municipality_of_a_deactivated_department_is_refused(login):
    admin = login("admin")
    assert admin.post(f"{BASE}/departamentos/08/desactivar").status_code == 302
    before = snapshot(Municipality)
    response = admin.post(f"{BASE}/municipios/nuevo", data=NEW_ROWS["municipios"])
    assert response.status_code == 422
    assert "El departamento «Francisco Morazán» está desactivado" in " ".join(field_errors(response))
    assert snapshot(Municipality) == before


BAD_EDITS = [
    ("oficinas", {"name": ""}, "Este campo es obligatorio."),
    ("oficinas", {"timezone": "America/Atlantis"}, "Zona horaria desconocida"),
    ("oficinas", {"country": "XX"}, "País desconocido"),
    ("municipios", {"name": "  "}, "Este campo es obligatorio."),
    ("instituciones", {"categories": ["ZZZ"]}, "Categorías de caso desconocidas: ZZZ."),
    ("vulnerabilidades", {"name": "x" * 151}, "Debe tener como máximo 150 caracteres."),
]


@pytest.mark.parametrize("slug,changes,message", BAD_EDITS)
def test_bad_edits_are_refused_in_spanish_and_nothing_is_saved(login, slug, changes, message):
    row = find(slug, EXISTING[slug])
    before = snapshot(MODELS[slug])
    response = login("admin").post(f"{BASE}/{slug}/{row.code}/editar", data=edit_data(slug, row, **changes))
    assert response.status_code == 422
    assert any(message in error for error in field_errors(response)), field_errors(response)
    assert snapshot(MODELS[slug]) == before


@pytest.mark.parametrize("method,url", [
    ("get", f"{BASE}/oficinas/NOPE/editar"),
    ("post", f"{BASE}/oficinas/NOPE/editar"),
    ("post", f"{BASE}/municipios/9999/desactivar"),
    ("post", f"{BASE}/instituciones/NOPE/reactivar"),
    ("get", f"{BASE}/planetas/"),
    ("get", f"{BASE}/planetas/nuevo"),
    ("get", f"{BASE}/planetas/X/editar"),
    ("post", f"{BASE}/planetas/X/desactivar"),
])
def test_unknown_catalogues_and_codes_are_404_in_spanish(login, method, url):
    response = getattr(login("admin"), method)(url, data={"name": "x"} if method == "post" else None)
    assert response.status_code == 404
    message = re.search(r'data-testid="error-message">(.*?)</p>', response.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"El catálogo «planetas» no existe\.|No existe el código «\w+» en [A-Z]\w+\.", message), message


def test_user_text_is_escaped(login):
    admin = login("admin")
    data = {**NEW_ROWS["areas-legales"], "name": "<script>alert(1)</script>", "name_en": '"><img src=x>'}
    response = admin.post(f"{BASE}/areas-legales/nuevo", data=data)
    assert response.status_code == 302
    for page in (admin.get(response.headers["Location"]), admin.get(f"{BASE}/areas-legales/FAMILIA/editar")):
        html = page.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        assert "<img src=x>" not in html
    refused = admin.post(f"{BASE}/oficinas/nuevo", data={**NEW_ROWS["oficinas"], "code": "<b>X</b>"})
    assert refused.status_code == 422 and "<b>X</b>" not in refused.get_data(as_text=True)


# --- nothing is ever deleted -------------------------------------------------------------------

def test_there_is_no_way_to_delete_a_row(app, login):
    catalog_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("catalogs.")]
    assert all("DELETE" not in rule.methods for rule in catalog_rules)
    assert not [rule for rule in catalog_rules if re.search(r"elimin|borr|delete|remove", rule.rule + rule.endpoint)]
    admin = login("admin")
    before = snapshot(Office)
    assert admin.delete(f"{BASE}/oficinas/TAP/editar").status_code == 405
    assert admin.post(f"{BASE}/oficinas/TAP/eliminar").status_code in (404, 405)
    assert admin.get(f"{BASE}/oficinas/TAP/editar").get_data(as_text=True).count("Eliminar") == 0
    assert snapshot(Office) == before
