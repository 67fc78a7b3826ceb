"""SpiffArena process-model folders: imported from a zip (browser) or a folder (command line) as a draft with
its forms, every problem listed and nothing half-stored; exported back in the same layout."""
import io
import json
import random
import stat
import zipfile
from pathlib import Path

import pytest

from app.extensions import db
from app.modeler.models import FormDocument, ProcessDraft
from app.workflow.models import HumanTask, ProcessVersion
from tests.helpers import submit

MODEL = Path(__file__).resolve().parent.parent / "data" / "spiffarena_model"
KEY = "Process_constancia_consular_x7k2m9"
SCHEMA, UI = "constancia-schema.json", "constancia-uischema.json"


@pytest.fixture
def gestor(login):
    return login("gestor")


def model_files(**changes) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in MODEL.iterdir() if p.is_file()}
    for name, content in changes.items():
        name = name.replace("__", ".").replace("_dash_", "-")
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content if isinstance(content, bytes) else content.encode()
    return files


def make_zip(files: dict[str, bytes], folder="constancia_consular", infos=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{folder}/{name}" if folder else name, content)
        for info, content in infos:
            archive.writestr(info, content)
    return buffer.getvalue()


def upload(client, data: bytes, filename="constancia.zip"):
    """POST the zip as the browser does (the body built here: the test client would spool a large one to a temporary
    file that it never closes)."""
    boundary = "----siproc-import-test"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="archivo"; filename="{filename}"\r\n'
            f"Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/procesos/importar", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def stored():
    """Everything an import may write: form documents, drafts, versions."""
    db.session.expire_all()
    return (tuple(db.session.execute(db.select(FormDocument.name, FormDocument.text).order_by(FormDocument.name))),
            tuple(db.session.execute(db.select(ProcessDraft.process_key, ProcessDraft.bpmn_xml))),
            db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)))


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}


# -- import through the browser --------------------------------------------------------------------------
def test_a_spiffarena_model_imports_as_a_draft_with_its_forms_and_runs_once_published(gestor, login):
    response = upload(gestor, make_zip(model_files()))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Modelo «Constancia consular» importado" in html
    assert 'data-testid="draft-valid"' in html  # validate() of the draft found nothing
    # the SpiffArena example data and the README are skipped, and the page says so
    assert "constancia-exampledata.json" in html and "README.md" in html
    db.session.expire_all()
    draft = db.session.scalar(db.select(ProcessDraft).where(ProcessDraft.process_key == KEY))
    assert draft.bpmn_xml == (MODEL / "constancia_consular.bpmn").read_text()
    assert db.session.get(FormDocument, SCHEMA).text == (MODEL / SCHEMA).read_text()
    assert db.session.get(FormDocument, UI).text == (MODEL / UI).read_text()
    assert db.session.get(FormDocument, "constancia-exampledata.json") is None
    assert db.session.get(FormDocument, UI).is_ui and not db.session.get(FormDocument, SCHEMA).is_ui

    # published from the editor, a case of it shows the SpiffArena form with its UI schema applied
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    body = gestor.post(f"/procesos/{KEY}/publicar", json={"xml": xml}).get_json()
    assert body["ok"] and body["version"] == 1, body
    officer = login("oficial.tap")
    response = officer.post("/casos/nuevo", data={"proceso": KEY})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    task = db.session.get(HumanTask, int(response.headers["Location"].rstrip("/").split("/")[-1]))
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert "Nombre de quien la solicita" in page and "Trámite ante autoridades" in page
    assert page.index("nombre_solicitante") < page.index('name="motivo"') < page.index('name="observaciones"')
    assert "<textarea" in page  # the UI schema's ui:widget for «observaciones»
    submit(officer, task, {"nombre_solicitante": "Ana Pérez", "motivo": "empleo"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).instance.status == "completed"


def test_json_files_no_task_uses_are_skipped_with_a_note(gestor):
    unit_test = json.dumps({"test_case_1": {"tasks": {"Activity_datos_constancia": {"data": [{}]}},
                                            "expected_output_json": {}}})
    response = upload(gestor, make_zip(model_files(test_constancia__json=unit_test)))
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    notes = response.get_data(as_text=True).split('data-testid="import-notes"')[1].split("</ul>")[0]
    assert "Se ignoró test_constancia.json: ninguna tarea del diagrama lo usa como formulario." in notes
    assert db.session.get(FormDocument, "test_constancia.json") is None


def test_a_form_that_differs_from_an_existing_one_refuses_the_whole_import(gestor):
    upload(gestor, make_zip(model_files()))  # first import: forms stored
    db.session.execute(db.delete(ProcessDraft))
    db.session.commit()
    before = stored()
    changed = json.loads((MODEL / SCHEMA).read_text())
    changed["title"] = "Otra constancia"
    response = upload(gestor, make_zip(model_files(**{"constancia_dash_schema__json": json.dumps(changed)})))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No se importó nada" in html
    assert "Ya existe un formulario «constancia-schema.json» con otro contenido: no se sobrescribe" in html
    assert stored() == before  # the identical UI schema and the draft were not stored either


def test_every_problem_of_the_model_is_listed_at_once_and_nothing_is_stored(gestor):
    before = stored()
    files = model_files(**{"constancia_dash_uischema__json": "{no es json",
                           "otro_dash_schema__json": json.dumps({"type": "object", "properties": {"x": 3}})})
    response = upload(gestor, make_zip(files))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    problems = html.split('data-testid="import-problems"')[1].split("</ul>")[0]
    assert "constancia-uischema.json" in problems and "otro-schema.json" in problems
    assert stored() == before


def test_a_non_executable_spiffarena_process_is_imported_with_the_reason_listed(gestor):
    bpmn = (MODEL / "constancia_consular.bpmn").read_text().replace('isExecutable="true"', 'isExecutable="false"')
    response = upload(gestor, make_zip(model_files(constancia_consular__bpmn=bpmn)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    problems = html.split('data-testid="draft-problems"')[1].split("</ul>")[0]
    assert f"El proceso «{KEY}» no es ejecutable (isExecutable=&#34;false&#34;)" in problems \
        or f"El proceso «{KEY}» no es ejecutable (isExecutable=\"false\")" in problems


def test_a_dmn_file_is_checked_and_the_model_is_not_half_imported(gestor):
    from app.modeler import spiff_archive

    before = stored()
    broken = ('<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
              'id="d" name="d" namespace="x"><decision id="riesgo_roto" name="Riesgo"/></definitions>')
    response = upload(gestor, make_zip(model_files(riesgo_roto__dmn=broken)))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "riesgo_roto.dmn" in html
    assert stored() == before  # neither the forms nor the draft were stored with a refused table
    decisions = spiff_archive._decisions_module()
    if decisions is None:  # DMN support not there: every .dmn is listed as pending
        assert "pendiente" in html
        return
    from app.modeler.decisions import NEW_DECISION

    table = NEW_DECISION.format(key="riesgo_importado")
    response = upload(gestor, make_zip(model_files(riesgo_importado__dmn=table)))
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    assert "riesgo_importado.dmn" in response.get_data(as_text=True)
    assert decisions.decisions()["riesgo_importado.dmn"] == table


# -- zip safety --------------------------------------------------------------------------------------------
def _info(name, mode=stat.S_IFREG | 0o644):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = mode << 16
    return info


@pytest.mark.parametrize("name, expected", [
    ("../fuera.json", "«..»"),
    ("/etc/passwd.json", "ruta absoluta"),
    ("a/../../b.json", "«..»"),
])
def test_paths_outside_the_folder_are_refused(gestor, name, expected):
    before = stored()
    response = upload(gestor, make_zip(model_files(), infos=[(_info(name), b"{}")]))
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert stored() == before


def test_links_are_refused(gestor):
    response = upload(gestor, make_zip(model_files(), infos=[(_info("constancia_consular/enlace.json",
                                                                   stat.S_IFLNK | 0o777), b"/etc/passwd")]))
    assert response.status_code == 422
    assert "enlace" in response.get_data(as_text=True)


def test_a_compression_bomb_is_refused_before_it_is_inflated(gestor):
    bomb = b"{" + b" " * (8 * 1024 * 1024) + b"}"
    response = upload(gestor, make_zip(model_files(bomba__json=bomb)))
    assert response.status_code == 422
    assert "compresión de este archivo es anómala" in response.get_data(as_text=True)


def test_too_many_entries_and_too_large_archives_are_refused(gestor):
    many = {f"f{i}.json": b"{}" for i in range(201)}
    response = upload(gestor, make_zip(many))
    assert response.status_code == 422 and "más de 200 entradas" in response.get_data(as_text=True)
    big = make_zip({"x.bpmn": random.Random(18).randbytes(5 * 1024 * 1024 + 1)}, folder=None)  # incompressible
    response = upload(gestor, big)
    assert response.status_code == 422 and "supera 5 MB" in response.get_data(as_text=True)


def test_the_uncompressed_budget_is_enforced(gestor, monkeypatch):
    from app.modeler import spiff_archive

    monkeypatch.setattr(spiff_archive, "MAX_UNCOMPRESSED", 2048)  # the model's files add up to more than that
    before = stored()
    response = upload(gestor, make_zip(model_files()))
    assert response.status_code == 422 and "El contenido descomprimido supera" in response.get_data(as_text=True)
    assert stored() == before


def test_truncated_or_corrupted_zips_are_refused_never_a_500(gestor):
    data = make_zip(model_files())
    before = stored()
    for cut in (10, len(data) // 3, len(data) // 2, len(data) - 30):
        assert upload(gestor, data[:cut]).status_code == 422
    flipped = bytearray(data)
    for offset in range(60, len(flipped) // 2, 97):  # damage compressed bytes: CRC or inflate errors
        flipped[offset] ^= 0xFF
    assert upload(gestor, bytes(flipped)).status_code == 422
    assert stored() == before


def test_not_a_zip_is_refused_with_a_message(gestor):
    response = upload(gestor, b"esto no es un zip")
    assert response.status_code == 422 and "no es un zip válido" in response.get_data(as_text=True)


def test_only_process_owners_may_import(login):
    officer = login("oficial.tap")
    assert upload(officer, make_zip(model_files())).status_code == 403


# -- export and the round trip -----------------------------------------------------------------------------
def test_export_of_a_published_process_gives_back_the_imported_files(gestor):
    upload(gestor, make_zip(model_files()))
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    assert gestor.post(f"/procesos/{KEY}/publicar", json={"xml": xml}).get_json()["ok"]
    response = gestor.get(f"/procesos/{KEY}/modelo.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    exported = read_zip(response.data)
    assert set(exported) == {"process_model.json", f"{KEY}.bpmn", SCHEMA, UI}
    assert exported[f"{KEY}.bpmn"] == (MODEL / "constancia_consular.bpmn").read_bytes()
    assert exported[SCHEMA] == (MODEL / SCHEMA).read_bytes() and exported[UI] == (MODEL / UI).read_bytes()
    meta = json.loads(exported["process_model.json"])
    assert (meta["display_name"], meta["primary_file_name"], meta["primary_process_id"]) == (
        "Constancia consular", f"{KEY}.bpmn", KEY)
    # import(export(x)): the same process, the same files, nothing new stored
    before = stored()
    response = upload(gestor, response.data)
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    assert "Se reemplazó el borrador" in response.get_data(as_text=True)
    assert stored()[0] == before[0]  # the forms were identical: none added or changed
    again = read_zip(gestor.get(f"/procesos/{KEY}/modelo.zip?borrador=1").data)
    assert again == exported


def test_an_import_never_replaces_a_draft_with_unpublished_changes(gestor):
    upload(gestor, make_zip(model_files()))
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    edited = xml.replace('name="Datos de la constancia"', 'name="Datos de la constancia (en edición)"')
    assert gestor.post(f"/procesos/{KEY}/borrador", json={"xml": edited}).status_code == 200
    before = stored()
    response = upload(gestor, make_zip(model_files()))
    assert response.status_code == 422
    assert "ya tiene un borrador con cambios sin publicar" in response.get_data(as_text=True)
    assert stored() == before


def test_export_of_the_project_process_carries_its_own_forms(gestor):
    response = gestor.get("/procesos/proteccion_consular/modelo.zip")
    files = read_zip(response.data)
    assert "proteccion_consular.bpmn" in files and "registro_caso.json" in files and "registro_caso_ui.json" in files
    assert not any(name.startswith("privacion") for name in files)  # a called process is its own model
    version = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == "proteccion_consular"))
    tables = json.loads(getattr(version, "decisions_json", None) or "{}")
    if "calledDecisionId" in version.bpmn_xml:  # the decision tables its business rule tasks call travel with it
        assert {n for n in files if n.endswith(".dmn")} and all(files[n].decode() == tables[n]
                                                                 for n in files if n.endswith(".dmn"))
    assert gestor.get("/procesos/no_existe/modelo.zip").status_code == 404
    assert gestor.get("/procesos/proteccion_consular/modelo.zip?version=99").status_code == 404


def test_the_process_page_offers_export_and_the_list_offers_import(gestor):
    assert 'data-testid="export-model"' in gestor.get("/procesos/proteccion_consular/").get_data(as_text=True)
    assert 'action="/procesos/importar"' in gestor.get("/procesos/").get_data(as_text=True)


# -- command line ------------------------------------------------------------------------------------------
def test_the_command_line_imports_a_folder_and_exports_a_zip(app, users, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["siproc", "import-model", str(MODEL), "--usuario", "gestor"])
    assert result.exit_code == 0, result.output
    assert KEY in result.output and SCHEMA in result.output
    result = runner.invoke(args=["siproc", "export-model", KEY, str(tmp_path / "m.zip"), "--borrador"])
    assert result.exit_code == 0, result.output
    exported = read_zip((tmp_path / "m.zip").read_bytes())
    assert exported[SCHEMA] == (MODEL / SCHEMA).read_bytes()
    # a refused folder stores nothing and says why
    bad = tmp_path / "malo"
    bad.mkdir()
    (bad / "x-schema.json").write_text("[]")
    result = runner.invoke(args=["siproc", "import-model", str(bad), "--usuario", "gestor"])
    assert result.exit_code != 0 and "no se importó nada" in result.output
