"""SIPROC load test: seeded officers log in, read their inbox, cases and tasks (80 %), and complete tasks (20 %).

Run through devtools/loadtest/run.py, which seeds a throwaway database, starts gunicorn and writes the plan this file
reads (LOADTEST_PLAN: officers, case and task ids per office, completable cases). By hand: `run.py --keep` leaves
its folder (plan.json and, with SQLite, the database under bench/); start gunicorn on that database, then

    LOADTEST_PLAN=/tmp/siproc-load-…/plan.json locust -f devtools/loadtest/locustfile.py --headless -u 40 -r 40 \
        --run-time 60s --host http://127.0.0.1:8000

Outcomes: a request that fails (5xx, connection error, or an unexpected answer) is a locust failure. A lost
race between two officers on the same task («ya la tomó», «ya fue completada», «Otra persona modificó», 409)
is expected behaviour: it is reported as a success under its own name, «… (carrera)», and counted apart.
The same goes for SQLite's lock contention answer («La base de datos está ocupada», 409): «… (ocupada)».
"""
import html
import json
import os
import random
import re
from collections import Counter
from datetime import date
from itertools import cycle
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text()) if os.environ.get("LOADTEST_PLAN") else None
OUTCOMES: Counter = Counter()  # written to LOADTEST_OUTCOMES when locust quits

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
ALERT = re.compile(r'<div class="alert alert-(\w+)" role="alert">(.*?)</div>', re.S)
CURRENT_STEP = re.compile(r"Paso actual.*?</div>", re.S)
TASK_LINK = re.compile(r'href="/tareas/(\d+)"')
RACE_SIGNS = ("ya la tomó", "ya fue completada", "Otra persona modificó", "no está asignada a su rol")
BUSY_SIGN = "La base de datos está ocupada"
NOT_MINE = "no le corresponde completarla"


def _today() -> str:
    return date.today().isoformat()


# Valid answers per form, recognised by a field only that form has (values as in tests/helpers.py, dates today).
def _evaluation():
    return random.choice([
        {"necesidades": ["documentacion"], "nivel_riesgo": "alto", "requiere_remision": "si"},
        {"necesidades": ["asistencia_legal"], "nivel_riesgo": "bajo", "requiere_remision": "no"},
    ])


FORMS = [
    ("nivel_riesgo", _evaluation),
    ("remisiones-0-servicio_solicitado", lambda: {"remisiones-0-institucion": "INM-MX",
                                                  "remisiones-0-servicio_solicitado": "Retorno asistido",
                                                  "fecha_envio": _today(), "consentimiento": "y"}),
    ("fecha_respuesta", lambda: {"respuesta": "aceptada", "fecha_respuesta": _today()}),
    ("remitir_otra", lambda: {"remitir_otra": "no"}),
    ("tipo_asistencia", lambda: {"tipo_asistencia": "documentacion", "fecha_atencion": _today(),
                                 "descripcion": "Salvoconducto emitido", "monto": "250.50", "moneda": "MXN",
                                 "fuente_financiamiento": "FOSMIH"}),
    ("fecha_seguimiento", lambda: {"fecha_seguimiento": _today(), "metodo": "llamada",
                                   "resultado_seguimiento": "Llegó bien", "continuar_seguimiento": "no"}),
    ("motivo_cierre", lambda: {"motivo_cierre": "retornado", "resumen_cierre": "Retorno completado sin novedad."}),
]


def form_values(page: str) -> dict | None:
    """Valid values for the task form on the page, or None for a form this test does not fill."""
    for field, values in FORMS:
        if f'name="{field}"' in page:
            return values()
    return None


def csrf_token(page: str) -> str:
    found = CSRF.search(page)
    return (found.group(1) or found.group(2)) if found else ""


def flashes(page: str) -> list[tuple[str, str]]:
    return [(kind, html.unescape(re.sub(r"\s+", " ", text)).strip()) for kind, text in ALERT.findall(page)]


_officers = cycle(PLAN["officers"]) if PLAN else None


class Officer(HttpUser):
    """One seeded officer of one office (round-robin over the offices)."""

    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.username, self.office = next(_officers)
        office = PLAN["offices"][self.office]
        self.case_ids, self.task_ids = office["cases"], office["tasks"]
        self.completable = list(office["completable"])
        self.login()

    # -- helpers -------------------------------------------------------------------------------------
    def _request(self, method, url, name, expected=(200,), **kwargs):
        """One request, judged: 5xx and connection errors are errors, other unexpected codes failures.
        Returns (response, text) with text None when the request failed."""
        kwargs.setdefault("allow_redirects", True)
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
            code = response.status_code or 0
            if code == 0:
                OUTCOMES["error: connection"] += 1
                response.failure(f"ERROR connection: {response.error!r}"[:300])
                return response, None
            if code >= 500:
                OUTCOMES["error: 5xx"] += 1
                response.failure(f"ERROR HTTP {code}")
                return response, None
            text = response.text
            if code == 409 and BUSY_SIGN in text:
                OUTCOMES["busy (409)"] += 1
                response.request_meta["name"] = f"{name} (ocupada)"
                response.success()
                return response, None
            if code not in expected:
                OUTCOMES[f"unexpected: HTTP {code}"] += 1
                response.failure(f"FAILURE HTTP {code}")
                return response, None
            response.success()
            return response, text

    def login(self):
        _response, page = self._request("GET", "/login", "GET /login")
        if page is None:
            return
        with self.client.post("/login", name="POST /login", allow_redirects=False, catch_response=True, data={
                "username": self.username, "password": PLAN["password"], "csrf_token": csrf_token(page)}) as response:
            if response.status_code == 302 and "/login" not in response.headers.get("Location", ""):
                response.success()
            else:
                OUTCOMES["unexpected: login refused"] += 1
                response.failure(f"FAILURE login of {self.username}: HTTP {response.status_code}")

    # -- 80 %: reading --------------------------------------------------------------------------------
    @task(3)
    def inbox(self):
        self._request("GET", "/tareas/", "GET /tareas/")

    @task(1)
    def office_queue(self):
        self._request("GET", "/tareas/?vista=oficina", "GET /tareas/?vista=oficina")

    @task(3)
    def case(self):
        self._request("GET", f"/casos/{random.choice(self.case_ids)}", "GET /casos/[id]")

    @task(1)
    def task_page(self):
        self._request("GET", f"/tareas/{random.choice(self.task_ids)}", "GET /tareas/[id]")

    # -- 20 %: completing a task of the office ---------------------------------------------------------
    @task(2)
    def complete(self):
        """Open a completable case of the office, open its current step, take it from the office queue and
        complete it with valid values. Cases whose remaining steps this officer cannot fill leave the list."""
        for _attempt in range(3):
            if not self.completable:
                OUTCOMES["completion: no completable case left"] += 1
                return self.inbox()
            case_id = random.choice(self.completable)
            _response, page = self._request("GET", f"/casos/{case_id}", "complete: GET /casos/[id]")
            if page is None:
                return None
            step = CURRENT_STEP.search(page)
            task_ids = TASK_LINK.findall(step.group(0)) if step else []
            if not task_ids:  # waiting on a timer (follow-up) or closed: nothing more for the officers
                self.completable.remove(case_id)
                continue
            task_id = random.choice(task_ids)
            response, page = self._request("GET", f"/tareas/{task_id}", "complete: GET /tareas/[id]")
            if page is None:
                return None
            if f"/tareas/{task_id}" not in response.url:  # completed by someone meanwhile: sent to the case
                OUTCOMES["race: completed by another officer before it was opened"] += 1
                return None
            values = form_values(page)
            if values is None:  # e.g. the supervisor's approval
                self.completable.remove(case_id)
                continue
            if NOT_MINE in page:
                OUTCOMES["race: already taken by another officer"] += 1
                return None
            if f'action="/tareas/{task_id}/tomar"' in page and not self._claim(task_id, csrf_token(page)):
                return None
            return self._submit(task_id, values, csrf_token(page))
        return None

    def _claim(self, task_id, token) -> bool:
        with self.client.post(f"/tareas/{task_id}/tomar", data={"csrf_token": token}, allow_redirects=False,
                              name="complete: POST /tareas/[id]/tomar", catch_response=True) as response:
            code = response.status_code or 0
            if code == 302:
                response.success()
                return True
            if code == 303:  # refused: the next page says why
                page = self._follow(response)
                if page is None:  # that page failed, and was counted: do not count the claim again
                    response.success()
                elif any(sign in message for _kind, message in flashes(page) for sign in RACE_SIGNS):
                    OUTCOMES["race: claim lost"] += 1
                    response.request_meta["name"] += " (carrera)"
                    response.success()
                else:
                    OUTCOMES["unexpected: claim refused"] += 1
                    response.failure(f"FAILURE claim refused: {flashes(page)}")
                return False
            if code in (403, 409) and any(sign in response.text for sign in RACE_SIGNS):
                OUTCOMES["race: claim lost"] += 1
                response.request_meta["name"] += " (carrera)"
                response.success()
            else:
                self._judge_other(response, code)
            return False

    def _submit(self, task_id, values, token):
        with self.client.post(f"/tareas/{task_id}", data={**values, "csrf_token": token}, allow_redirects=False,
                              name="complete: POST /tareas/[id]", catch_response=True) as response:
            code = response.status_code or 0
            if code == 302:
                page = self._follow(response)
                messages = flashes(page or "")
                if page is None:  # that page failed, and was counted: the outcome of the submit is unknown
                    OUTCOMES["completion: not confirmed (the page after it failed)"] += 1
                    response.success()
                elif any(kind == "success" and "completada" in message for kind, message in messages):
                    OUTCOMES["completion: done"] += 1
                    response.success()
                elif any(sign in message for _kind, message in messages for sign in RACE_SIGNS):
                    OUTCOMES["race: submit lost"] += 1
                    response.request_meta["name"] += " (carrera)"
                    response.success()
                else:
                    OUTCOMES["unexpected: submit not confirmed"] += 1
                    response.failure(f"FAILURE submit not confirmed: {messages}")
            elif code in (403, 409) and any(sign in response.text for sign in RACE_SIGNS):
                OUTCOMES["race: submit lost"] += 1
                response.request_meta["name"] += " (carrera)"
                response.success()
            elif code == 422:
                OUTCOMES["unexpected: form refused (422)"] += 1
                response.failure(f"FAILURE form refused: {flashes(response.text)}")
            else:
                self._judge_other(response, code)

    def _follow(self, response) -> str | None:
        """GET the page a POST redirected to (where its flash message is shown); None when that request failed."""
        _answer, page = self._request("GET", response.headers["Location"], "complete: GET after POST")
        return page

    @staticmethod
    def _judge_other(response, code):
        if code == 0:
            OUTCOMES["error: connection"] += 1
            response.failure(f"ERROR connection: {response.error!r}"[:300])
        elif code >= 500:
            OUTCOMES["error: 5xx"] += 1
            response.failure(f"ERROR HTTP {code}")
        elif code == 409 and BUSY_SIGN in response.text:
            OUTCOMES["busy (409)"] += 1
            response.request_meta["name"] += " (ocupada)"
            response.success()
        else:
            OUTCOMES[f"unexpected: HTTP {code}"] += 1
            response.failure(f"FAILURE HTTP {code}")


@events.quitting.add_listener
def _write_outcomes(environment, **_kwargs):
    target = os.environ.get("LOADTEST_OUTCOMES")
    if target:
        Path(target).write_text(json.dumps(dict(OUTCOMES), ensure_ascii=False, indent=1))
