"""Duplicate detection benchmark: recall, wrong candidates and latency of persons.duplicate_candidates at
1,000 and 1,000,000 persons (goals: recall >= 95 %, <= 5 % of candidates wrong, p95 <= 100 ms at 1M).

The measurement set is tests/data/person_variants.json (made by tests/data/person_variants.py): 1,000
registered Honduran persons, one retyped query for each (second surname left out, accents, typos, nicknames,
surnames swapped, day and month swapped, passport or phone only...) and 350 queries that must find nobody.
Both databases hold those 1,000 persons; the large one adds 999,000 more from the same name distributions
(bulk INSERTs with SQLAlchemy Core executemany, keys computed as persons.refresh_search_keys does). Every
query runs through duplicate_candidates, in-process, on a SQLite file. A query is found when its person is
among the candidates; a candidate is wrong when it is anybody else. SIPROC_BENCH_DUPLICATES_PERSONS overrides
the large size for a quick run.
"""
import gc
import os
import time
from collections import Counter, defaultdict

import sqlalchemy as sa

from app.cases import matching
from app.cases.models import Person, PersonPhone
from app.cases.persons import duplicate_candidates
from app.core import clock, crypto
from app.core.text import normalize
from app.extensions import db
from tests.data import person_variants

from .report import Figures, Section, table, verdict
from .seed import BATCH, copy_database, insert_rows

SIZES = (1000, int(os.environ.get("SIPROC_BENCH_DUPLICATES_PERSONS", "1000000")))
RECALL_GOAL, WRONG_GOAL, P95_GOAL_MS = 0.95, 0.05, 100.0


def person_rows(person: dict, person_id: int, placeholder: str, now) -> tuple[dict, list[dict]]:
    """The persons row and phone rows of one generated person, with the keys refresh_search_keys computes."""
    from datetime import date

    row = {column.name: None for column in Person.__table__.columns}
    born = date.fromisoformat(person["fecha_nacimiento"]) if person.get("fecha_nacimiento") else None
    names = (person["nombres"], person["primer_apellido"], person.get("segundo_apellido"))
    family_phone = person.get("telefono_contacto")
    family_digits = "504" + "".join(c for c in family_phone if c.isdigit())[3:] if family_phone else None
    passport = person.get("pasaporte")
    row.update({
        "id": person_id, "given_names": names[0], "first_surname": names[1], "second_surname": names[2],
        "sex": person["sexo"], "birth_date": born, "birth_date_estimated": False,
        "estimated_age": person.get("edad_estimada") if born is None else None, "nationality": "HN",
        "passport_number": placeholder if passport else None, "passport_hash": crypto.search_hash(passport),
        "family_contact_phone": family_phone, "search_text": normalize(" ".join(n for n in names if n)),
        "first_surname_key": normalize(names[1]), "second_surname_key": normalize(names[2]),
        "birth_year": matching.birth_year(born, person.get("edad_estimada"), now.year),
        "family_phone_digits": family_digits, "created_at": now, "updated_at": now,
        "origin_municipality_code": person.get("municipio_origen"),
        "origin_department_code": person["municipio_origen"][:2] if person.get("municipio_origen") else None,
        **matching.stored_keys(*names),
    })
    phones = []
    if person.get("telefono"):
        digits = "504" + "".join(c for c in person["telefono"] if c.isdigit())[3:]
        phones.append({"person_id": person_id, "number": person["telefono"], "digits": digits, "label": None})
    return row, phones


def load_persons(persons, first_id: int = 1, log=None, total: int | None = None) -> int:
    """Insert generated persons (any iterable, streamed) with ids from `first_id`; returns how many."""
    placeholder = crypto.encrypt("(dato de prueba)")
    now = clock.now()
    rows, phones, count = [], [], 0
    for offset, person in enumerate(persons):
        row, person_phones = person_rows(person, first_id + offset, placeholder, now)
        rows.append(row)
        phones.extend(person_phones)
        count += 1
        if len(rows) >= BATCH:
            insert_rows(Person, rows)
            insert_rows(PersonPhone, phones)
            rows, phones = [], []
            if log and count % 100_000 == 0:
                log(f"    {count:,} of {total or '?':,} persons inserted" if total else f"    {count:,} persons")
    insert_rows(Person, rows)
    insert_rows(PersonPhone, phones)
    if db.session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('persons', 'id'), "
                                   "(SELECT max(id) FROM persons))"))
    return count


def evaluate(queries: list[dict], id_of_index: dict[int, int], timed: bool = True) -> dict:
    """Run every query through duplicate_candidates: recall, wrong-candidate rate, latencies, misses by class."""
    found = positives = candidates = wrong = negatives_with_candidates = 0
    by_variant: dict[str, Counter] = defaultdict(Counter)
    samples, misses = [], []
    for query in queries:
        begin = time.perf_counter()
        result = duplicate_candidates(query["data"])
        if timed:
            samples.append((time.perf_counter() - begin) * 1000)
        expected = id_of_index.get(query["expect"]) if query["expect"] is not None else None
        ids = [c.person.id for c in result]
        candidates += len(ids)
        wrong += sum(1 for i in ids if i != expected)
        stats = by_variant[query["variant"]]
        stats["queries"] += 1
        stats["wrong"] += sum(1 for i in ids if i != expected)
        stats["candidates"] += len(ids)
        if expected is None:
            negatives_with_candidates += bool(ids)
        else:
            positives += 1
            hit = expected in ids
            found += hit
            stats["found"] += hit
            if not hit:
                misses.append(query)
        db.session.expire_all()
    return {"recall": found / positives if positives else 1.0, "found": found, "positives": positives,
            "candidates": candidates, "wrong": wrong, "wrong_rate": wrong / candidates if candidates else 0.0,
            "negatives": len(queries) - positives, "negatives_with_candidates": negatives_with_candidates,
            "latency": Figures(samples) if samples else None, "by_variant": dict(by_variant), "misses": misses}


def _build(workspace, size: int, fixture: dict):
    path = workspace.folder / f"duplicates-{size}.db"
    copy_database(workspace.template(), path)
    app = workspace.app(path)
    started = time.perf_counter()
    with app.app_context():
        load_persons(fixture["persons"], 1)
        if size > len(fixture["persons"]):
            noise = size - len(fixture["persons"])
            load_persons(person_variants.noise_persons(noise), len(fixture["persons"]) + 1, workspace.log, noise)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        persons = db.session.scalar(sa.select(sa.func.count(Person.id)))
        phones = db.session.scalar(sa.select(sa.func.count(PersonPhone.id)))
        db.session.remove()
        db.engine.dispose()
    return app, path, persons, phones, time.perf_counter() - started


def run(workspace) -> Section:
    fixture = person_variants.load()
    queries = fixture["queries"]
    id_of_index = {i: i + 1 for i in range(len(fixture["persons"]))}
    section = Section("Duplicate detection: persons.duplicate_candidates at 1,000 and 1,000,000 persons")
    rows, variant_rows = [], {}
    for size in SIZES:
        workspace.log(f"  building a database of {size:,} persons ...")
        app, path, persons, phones, built = _build(workspace, size, fixture)
        with app.app_context():
            evaluate(queries[:50], id_of_index, timed=False)  # warm-up: caches, prepared statements
            gc.collect()
            result = evaluate(queries, id_of_index)
            db.session.remove()
            db.engine.dispose()
        size_mb = os.path.getsize(path) / 1024 / 1024
        latency = result["latency"]
        ok_recall = result["recall"] >= RECALL_GOAL
        ok_wrong = result["wrong_rate"] <= WRONG_GOAL
        ok_latency = latency.p95 <= P95_GOAL_MS
        section.misses += (not ok_recall) + (not ok_wrong) + (not ok_latency and size == SIZES[-1])
        rows.append([f"{persons:,}", f"{phones:,}", f"{size_mb:,.0f} MB", f"{built:.0f} s",
                     f"{result['recall']:.1%} {verdict(ok_recall)}",
                     f"{result['wrong_rate']:.1%} {verdict(ok_wrong)}",
                     f"{result['negatives_with_candidates']}/{result['negatives']}",
                     f"{latency.median:.1f}", f"{latency.p95:.1f} {verdict(ok_latency) if size == SIZES[-1] else ''}"])
        for variant, stats in sorted(result["by_variant"].items()):
            variant_rows.setdefault(variant, [variant, stats["queries"]]).append(
                f"{stats['found'] / stats['queries']:.0%}" if not variant.startswith("negative") else "-")
            variant_rows[variant].append(f"{stats['wrong']}/{stats['candidates']}")
        for miss in result["misses"][:5]:
            workspace.log(f"    missed ({miss['variant']}): {miss['data']}")
        path.unlink()
    section.add(f"{len(queries):,} queries ({sum(q['expect'] is not None for q in queries):,} retyped persons, "
                f"{sum(q['expect'] is None for q in queries)} that must find nobody) through duplicate_candidates, "
                "in-process on a SQLite file; time per call (blocks, scoring, loading the candidates).")
    section.add()
    section.add(table(["persons", "phones", "database", "build", f"recall>={RECALL_GOAL:.0%}",
                       f"wrong<={WRONG_GOAL:.0%}", "negatives hit", "p50 ms", f"p95 ms (<={P95_GOAL_MS:.0f} at 1M)"],
                      rows))
    section.add()
    headers = ["variant", "queries"]
    for size in SIZES:
        headers += [f"found@{size:,}", f"wrong@{size:,}"]
    section.add(table(headers, list(variant_rows.values())))
    section.add()
    section.add("RESULT: " + ("PASS (every goal met)" if not section.misses else
                              f"MISS ({section.misses} goal(s) missed, see the table)"))
    return section
