"""Institutions' focal points (who receives referrals, and the usual answer deadline), kept by administrators."""
import csv
import json
import shutil

import pytest

from app.audit.models import AuditEvent
from app.extensions import db
from app.reference.models import Institution
from app.reference.services import load_reference
from tests.conftest import flashes
from tests.helpers import snapshot
from tests.reference.test_catalog_admin import edit_data, field_errors

URL = "/admin/catalogos/instituciones/INM-MX/editar"
FOCAL = {"focal_name": "Unidad de Enlace (prueba)", "focal_email": "remisiones@inm-mx.example.org",
         "focal_phone": "+52 (55) 0000-0000", "response_days": "10"}
REVISE = "Revise los campos marcados. No se guardó nada."
EMAIL_MESSAGE = "Escriba un correo electrónico válido (p. ej. remisiones@institucion.org)."
PHONE_MESSAGE = "El teléfono solo puede tener dígitos, espacios, «+», «-» y paréntesis, con un máximo de 40 caracteres."
DAYS_MESSAGE = "Indique un número entero de días entre 1 y 60, o deje el campo vacío."


def institution(code="INM-MX") -> Institution:
    db.session.expire_all()
    return db.session.scalar(db.select(Institution).where(Institution.code == code))


def focal_of(row) -> tuple:
    return row.focal_name, row.focal_email, row.focal_phone, row.response_days


def post_focal(client, **changes):
    return client.post(URL, data=edit_data("instituciones", institution(), **{**FOCAL, **changes}))


def catalog_events(code="INM-MX") -> list[dict]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "catalog_changed", AuditEvent.object_type == "institutions",
        AuditEvent.object_id == code).order_by(AuditEvent.id))
    return [{"actor": e.actor_name, **json.loads(e.details_json)} for e in rows]


def test_seeded_institutions_have_no_invented_focal_points(app):
    rows = db.session.scalars(db.select(Institution)).all()
    assert rows and all(focal_of(row) == (None, None, None, None) for row in rows)


def test_admin_edits_the_focal_point_and_it_is_stored_shown_and_audited(login):
    admin = login("admin")
    form = admin.get(URL).get_data(as_text=True)
    for name in FOCAL:
        assert f'name="{name}"' in form
    assert catalog_events() == []

    response = post_focal(admin)
    assert response.status_code == 302, field_errors(response)
    assert flashes(admin.get(response.headers["Location"]).get_data(as_text=True)) == [
        "Se guardaron los cambios de «INM-MX — Instituto Nacional de Migración (México)»."]
    assert focal_of(institution()) == ("Unidad de Enlace (prueba)", "remisiones@inm-mx.example.org",
                                       "+52 (55) 0000-0000", 10)

    listing = admin.get("/admin/catalogos/instituciones/").get_data(as_text=True)
    assert "<th scope=\"col\">Punto focal</th>" in listing
    assert "Unidad de Enlace (prueba) — remisiones@inm-mx.example.org" in listing
    form = admin.get(URL).get_data(as_text=True)
    assert 'value="remisiones@inm-mx.example.org"' in form and 'value="10"' in form

    [event] = catalog_events()
    assert event["actor"] == "admin" and event["operación"] == "modificación"
    assert event["cambios"] == {"focal_name": ["None", "Unidad de Enlace (prueba)"],
                                "focal_email": ["None", "remisiones@inm-mx.example.org"],
                                "focal_phone": ["None", "+52 (55) 0000-0000"],
                                "response_days": ["None", "10"]}


def test_focal_point_can_be_cleared_and_days_left_empty(login):
    admin = login("admin")
    assert post_focal(admin).status_code == 302
    response = post_focal(admin, focal_name="", focal_email="", focal_phone="", response_days="")
    assert response.status_code == 302, field_errors(response)
    assert focal_of(institution()) == (None, None, None, None)


def test_name_loses_control_characters_and_values_are_trimmed(login):
    response = post_focal(login("admin"), focal_name="  Enlace\u202e\x1b de\u200f  remisiones ",
                          focal_email=" enlace@example.org ", response_days=" 7 ")
    assert response.status_code == 302, field_errors(response)
    row = institution()
    assert (row.focal_name, row.focal_email, row.response_days) == ("Enlace de remisiones", "enlace@example.org", 7)


@pytest.mark.parametrize("changes,message", [
    ({"focal_email": "remisiones"}, EMAIL_MESSAGE),
    ({"focal_email": "remisiones@inm"}, EMAIL_MESSAGE),
    ({"focal_email": "a@@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "a b@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": ".a@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "a..b@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "a@-example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "a@example.org\nBcc: x@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "José@example.org"}, EMAIL_MESSAGE),
    ({"focal_email": "<script>@example.org"}, EMAIL_MESSAGE),
    ({"focal_phone": "55 1234 abcd"}, PHONE_MESSAGE),
    ({"focal_phone": "55/1234"}, PHONE_MESSAGE),
    ({"focal_phone": "+()-"}, PHONE_MESSAGE),
    ({"focal_phone": "5" * 41}, PHONE_MESSAGE),
    ({"response_days": "0"}, DAYS_MESSAGE),
    ({"response_days": "61"}, DAYS_MESSAGE),
    ({"response_days": "-3"}, DAYS_MESSAGE),
    ({"response_days": "2.5"}, DAYS_MESSAGE),
    ({"response_days": "diez"}, DAYS_MESSAGE),
    ({"focal_name": "x" * 201}, "Debe tener como máximo 200 caracteres."),
])
def test_bad_focal_point_is_refused_in_spanish_and_nothing_is_saved(login, changes, message):
    admin = login("admin")
    assert post_focal(admin, focal_name="Enlace anterior", focal_email="anterior@example.org").status_code == 302
    before = snapshot(Institution)
    events = len(catalog_events())

    response = post_focal(admin, **changes, short_name="Cambiado")
    assert response.status_code == 422
    assert message in field_errors(response), field_errors(response)
    assert REVISE in flashes(response.get_data(as_text=True))
    assert snapshot(Institution) == before
    assert (institution().focal_email, institution().short_name) == ("anterior@example.org", "INM México")
    assert len(catalog_events()) == events


@pytest.mark.parametrize("username", ["oficial.tap", "consul.tap", "analista"])
def test_non_admins_cannot_edit_a_focal_point(login, username):
    client = login(username)
    before = snapshot(Institution)
    assert client.get(URL).status_code == 403
    assert post_focal(client).status_code == 403
    assert snapshot(Institution) == before and catalog_events() == []


def test_a_new_institution_can_be_given_its_focal_point(login):
    data = {"code": "CASA-TAP", "short_name": "Casa del Migrante", "kind": "ngo", "country": "MX",
            "name": "Albergue Casa del Migrante de Tapachula", "categories": ["RET"], **FOCAL, "response_days": "3"}
    response = login("admin").post("/admin/catalogos/instituciones/nuevo", data=data)
    assert response.status_code == 302, field_errors(response)
    assert focal_of(institution("CASA-TAP"))[1:] == ("remisiones@inm-mx.example.org", "+52 (55) 0000-0000", 3)


def _data_copy(tmp_path, focal_values: dict[str, dict]):
    """The reference data folder with focal-point cells filled in institutions.csv for some codes."""
    from flask import current_app

    folder = tmp_path / "reference"
    shutil.copytree(current_app.config["REFERENCE_DIR"], folder)
    path = folder / "institutions.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    for row in rows:
        row.update(focal_values.get(row["code"], {}))
    extra = [code for code in focal_values if code not in {row["code"] for row in rows}]
    for code in extra:
        rows.append({"code": code, "name": f"Institución {code}", "short_name": code, "country": "MX",
                     "kind": "ngo", "categories": "RET", **focal_values[code]})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_the_csv_has_the_optional_focal_point_columns(app):
    with open(f"{app.config['REFERENCE_DIR']}/institutions.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames[-4:] == ["focal_name", "focal_email", "focal_phone", "response_days"]
    assert all(row[name] == "" for row in rows for name in reader.fieldnames[-4:])


def test_reloading_the_reference_data_keeps_the_edited_focal_point(app, login, tmp_path):
    assert post_focal(login("admin")).status_code == 302
    edited = focal_of(institution())

    result = app.test_cli_runner().invoke(args=["siproc", "load-reference"])
    assert result.exit_code == 0, result.output
    assert "institutions +0" in result.output
    assert focal_of(institution()) == edited

    # Even a CSV that names other focal values does not overwrite what the administrator entered.
    folder = _data_copy(tmp_path, {"INM-MX": {"focal_name": "Otro", "focal_email": "otro@example.org",
                                   "focal_phone": "1", "response_days": "30"}})
    assert load_reference(folder)["institutions"] == 0
    db.session.commit()
    assert focal_of(institution()) == edited


def test_reloading_keeps_a_cleared_focal_point_cleared(app, login, tmp_path):
    admin = login("admin")
    assert post_focal(admin).status_code == 302
    assert post_focal(admin, focal_email="", response_days="").status_code == 302
    folder = _data_copy(tmp_path, {"INM-MX": {"focal_email": "viejo@example.org", "response_days": "30"}})
    load_reference(folder)
    db.session.commit()
    assert focal_of(institution())[1:] == (None, "+52 (55) 0000-0000", None)


def test_csv_focal_values_seed_a_new_institution(app, tmp_path):
    folder = _data_copy(tmp_path, {"PRUEBA-MX": {"focal_name": " Enlace ", "focal_email": "enlace@example.org",
                                                 "focal_phone": "55 0000 0000", "response_days": "8"}})
    assert load_reference(folder)["institutions"] == 1
    assert focal_of(institution("PRUEBA-MX")) == ("Enlace", "enlace@example.org", "55 0000 0000", 8)


@pytest.mark.parametrize("cells,column", [
    ({"focal_email": "no-es-correo"}, "focal_email"),
    ({"focal_phone": "llamar"}, "focal_phone"),
    ({"response_days": "90"}, "response_days"),
])
def test_a_malformed_csv_focal_value_stops_the_load(app, tmp_path, cells, column):
    folder = _data_copy(tmp_path, {"PRUEBA-MX": cells})
    with pytest.raises(ValueError, match=rf"institutions\.csv, PRUEBA-MX: {column}"):
        load_reference(folder)
    db.session.rollback()
    assert institution("PRUEBA-MX") is None
