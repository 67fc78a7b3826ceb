"""Generator of the duplicate-detection measurement set: Honduran persons and the ways officers retype them.

`python -m tests.data.person_variants` writes tests/data/person_variants.json (deterministic: seed 20261207):
1,000 registered persons, for each one query that retypes them as an intake officer would (one variant class
per query, listed in VARIANTS), and 350 negative queries (new persons, siblings who share both surnames,
namesakes born years apart) that must find nobody. `noise_persons(n, seed)` makes any number of further
persons from the same distributions, for the 1,000- and 1,000,000-person databases (not stored: rebuilt).

Names follow Honduran usage: one or two given names (compound María José, José Ángel, particles as in
"del Carmen"), a father's and a mother's surname (8 % have only one), surnames drawn with a Zipf-like
frequency so Hernández, López and Martínez are as common as in the registry. Phones are Honduran mobiles,
family contacts' phones Honduran landlines or mobiles, passports a letter and 7 digits; all unique.
Queries are intake form data (the field names of forms/persona.json), the origin municipality included
(weighted by population: Distrito Central and San Pedro Sula first), kept in 85 % of the queries.
"""
import json
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

SEED = 20261207
TARGETS = 1000
NEGATIVES = 350
FIXTURE = Path(__file__).with_suffix(".json")

SURNAMES = [
    "Hernández", "López", "Martínez", "Rodríguez", "García", "Flores", "Mejía", "Reyes", "Cruz", "Sánchez",
    "Pérez", "Ramírez", "González", "Castro", "Díaz", "Gómez", "Álvarez", "Zelaya", "Ortiz", "Mendoza",
    "Rivera", "Aguilar", "Romero", "Amador", "Castillo", "Murillo", "Maradiaga", "Euceda", "Bonilla", "Ordóñez",
    "Paz", "Andino", "Velásquez", "Cáceres", "Lagos", "Fúnez", "Padilla", "Rosales", "Banegas", "Suazo",
    "Barahona", "Matute", "Zúniga", "Sierra", "Ponce", "Alvarado", "Vásquez", "Moncada", "Pineda", "Carranza",
    "Cálix", "Lanza", "Figueroa", "Guevara", "Escoto", "Midence", "Turcios", "Urbina", "Chávez", "Canales",
    "Ávila", "Osorto", "Maldonado", "Espinal", "Fiallos", "Galeas", "Colindres", "Salgado", "Discua", "Bustillo",
    "Irías", "Lobo", "Valladares", "Núñez", "Torres", "Morales", "Vallecillo", "Varela", "Sevilla", "Mondragón",
    "Erazo", "Oseguera", "Girón", "Aguiluz", "Villatoro", "Medina", "Santos", "Sosa", "Cerrato", "Del Cid",
    "Portillo", "Cardona", "Elvir", "Quintanilla", "Rápalo", "Zepeda", "Sabillón", "Membreño", "Hércules", "Ramos",
    "Mejía", "Izaguirre", "Ulloa", "Bardales", "Cruz", "Montoya", "Benítez", "Nolasco", "Arita", "Ochoa",
]
GIVEN_F = ["María", "Ana", "Karla", "Delmy", "Glenda", "Sonia", "Dilcia", "Keila", "Nohemy", "Rosa", "Wendy",
           "Iris", "Suyapa", "Gloria", "Marta", "Lesly", "Yessenia", "Dania", "Xiomara", "Ingrid", "Lourdes",
           "Reina", "Sandra", "Patricia", "Carmen", "Guadalupe", "Concepción", "Rosario", "Consuelo", "Mercedes",
           "Dolores", "Isabel", "Teresa", "Alicia", "Josefa", "Francisca", "Antonia", "Elena", "Brenda", "Heidy",
           "Kenia", "Merlin", "Jessica", "Daniela", "Fernanda", "Alejandra", "Yolanda", "Lilian", "Olga", "Norma",
           "Belkis", "Mirian", "Elsa", "Cristina", "Natalia", "Victoria", "Gabriela", "Beatriz", "Sofía", "Emilia"]
SECOND_F = ["Marisol", "Suyapa", "Elizabeth", "Maribel", "Johana", "Alejandra", "Amalia", "Carolina", "Lucía",
            "Yamileth", "Patricia", "Esperanza", "del Carmen", "de Jesús", "Isabel", "Gabriela", "Fernanda", "Sofía",
            "Eugenia", "Josefina", "Elena", "Guadalupe", "Concepción", "Maricela", "Argentina", "Francisca"]
GIVEN_M = ["José", "Juan", "Carlos", "Luis", "Wilmer", "Marvin", "Óscar", "Elvin", "Kevin", "Denis", "Edwin",
           "Selvin", "Francisco", "Antonio", "Jesús", "Manuel", "Miguel", "Mario", "Jorge", "Víctor", "Roberto",
           "Ramón", "Guillermo", "Ignacio", "Lorenzo", "Vicente", "Santiago", "Salvador", "Gregorio", "Rigoberto",
           "Gustavo", "Fernando", "Eduardo", "Alberto", "Enrique", "Rafael", "Ernesto", "Nelson", "Olvin", "Brayan",
           "Erick", "Josué", "Darwin", "Héctor", "Allan", "Ángel", "Dagoberto", "Reinaldo", "Walter", "Nicolás",
           "Joaquín", "Domingo", "Tomás", "Federico", "Alfonso", "Adolfo", "Gonzalo", "Marcelo", "Emilio", "Daniel"]
SECOND_M = ["Ángel", "Roberto", "Antonio", "Fernando", "Josué", "René", "Omar", "Alexander", "Carlos", "Adonay",
            "Rolando", "Alberto", "David", "Armando", "Francisco", "Manuel", "Enrique", "Eduardo", "Orlando",
            "Danilo", "Arturo", "Javier", "de Jesús", "Luis", "Alfredo", "Mauricio", "Isaac", "Geovanny"]
# The nicknames an officer may hear instead of a name (a subset of app/cases/nicknames.csv).
NICKNAMES = {"José": ["Chepe", "Pepe", "Cheo"], "Francisco": ["Pancho", "Paco"], "Guadalupe": ["Lupe"],
             "Rosario": ["Chayo", "Charo"], "Vicente": ["Chente"], "Antonio": ["Toño", "Tony"],
             "Guillermo": ["Memo"], "Ignacio": ["Nacho"], "Lorenzo": ["Lencho"], "Concepción": ["Concha", "Conchita"],
             "Consuelo": ["Chelo"], "Jesús": ["Chucho", "Chuy"], "Ramón": ["Moncho"], "Fernando": ["Nando"],
             "Eduardo": ["Lalo"], "Gregorio": ["Goyo"], "Rigoberto": ["Rigo"], "Gustavo": ["Tavo"],
             "Santiago": ["Chago"], "Salvador": ["Chava"], "Alfonso": ["Poncho"], "Mercedes": ["Meche"],
             "Dolores": ["Lola"], "Isabel": ["Chabela"], "Josefa": ["Chepa", "Pepa"], "Teresa": ["Tere"],
             "Alicia": ["Licha"], "Enrique": ["Quique", "Kike"], "Alberto": ["Beto"], "Roberto": ["Beto"],
             "Luis": ["Lucho"], "Manuel": ["Manolo"], "Rafael": ["Rafa"], "Ernesto": ["Neto"], "Nicolás": ["Nico"],
             "Joaquín": ["Quino"], "Domingo": ["Mingo"], "Patricia": ["Paty"], "Francisca": ["Pancha", "Paca"],
             "Gonzalo": ["Chalo"], "Adolfo": ["Fito"], "Beatriz": ["Betty"], "Antonia": ["Toña"]}
# Typos officers make: sounds spelled another way, and keyboard slips.
SOUND_SWAPS = [("z", "s"), ("s", "z"), ("v", "b"), ("b", "v"), ("ll", "y"), ("y", "ll"), ("ce", "se"),
               ("ci", "si"), ("h", ""), ("qu", "k"), ("j", "g"), ("gi", "ji"), ("ge", "je"), ("x", "j")]

VARIANTS = {  # class -> weight (share of the 1,000 positive queries)
    "exact": 5, "second_surname_dropped": 12, "first_surname_dropped": 4, "accents_dropped": 8, "typo": 14,
    "nickname": 9, "surnames_swapped": 6, "given_names_swapped": 4, "given_name_dropped": 3,
    "date_day_month": 6, "date_year_off": 6, "surname_dropped_and_accents": 5, "age_only": 4,
    "passport_other_name": 5, "phone_only": 4, "family_phone_only": 3, "surnames_in_one_field": 2,
}
NEGATIVE_KINDS = {"new_person": 60, "sibling": 25, "namesake_far_date": 15}


# Origin municipality (the RNP codes of app/reference/data): the cities weigh as their population does.
MUNICIPALITIES_FILE = Path(__file__).resolve().parents[2] / "app" / "reference" / "data" / "honduras_municipalities.csv"
CITY_WEIGHTS = {"0801": 40, "0501": 28, "0502": 9, "1804": 6, "0101": 6, "0511": 5, "0703": 5, "0601": 5,
                "0301": 4, "1501": 4, "0318": 3, "0512": 3, "0506": 3, "1503": 3, "0209": 3, "0401": 2, "1807": 2}


def _municipalities() -> tuple[list[str], list[float]]:
    codes = [line.split(",")[2] for line in MUNICIPALITIES_FILE.read_text(encoding="utf-8").splitlines()[1:] if line]
    return codes, [CITY_WEIGHTS.get(code, 0.5) for code in codes]


_MUNICIPALITY_CODES, _MUNICIPALITY_WEIGHTS = _municipalities()


def _zipf(count: int, exponent: float = 0.85) -> list[float]:
    return [1 / (rank ** exponent) for rank in range(1, count + 1)]


_SURNAME_WEIGHTS = _zipf(len(SURNAMES))
_F_WEIGHTS, _M_WEIGHTS = _zipf(len(GIVEN_F), 0.7), _zipf(len(GIVEN_M), 0.7)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _phone(index: int, family: bool) -> str:
    """A unique Honduran number per index: mobiles 3/9 for persons, landline 2 or mobile 8 for families."""
    prefix = ("2", "8")[index % 2] if family else ("9", "3")[index % 2]
    number = f"{prefix}{(index * 7919 + (4_111_111 if family else 1_234_567)) % 10_000_000:07d}"
    return f"+504 {number[:4]}-{number[4:]}"


def _passport(index: int) -> str:
    return "EFGH"[index % 4] + f"{(index * 7919 + 2_718_281) % 10_000_000:07d}"


def make_person(rng: random.Random, index: int, sex: str | None = None, surnames=None, born=None) -> dict:
    """One registered person (plain data; `index` makes phones and passport unique)."""
    sex = sex or rng.choice("FM")
    first_names, weights, seconds = (GIVEN_F, _F_WEIGHTS, SECOND_F) if sex == "F" else (GIVEN_M, _M_WEIGHTS, SECOND_M)
    given = rng.choices(first_names, weights)[0]
    if sex == "F" and rng.random() < 0.12:
        given = "María"  # María José, María Elena...: very common compound first names
    if rng.random() < 0.7:
        second = rng.choice(seconds + (["José"] if given == "María" else []))
        if second != given:
            given = f"{given} {second}"
    if surnames is None:
        first = rng.choices(SURNAMES, _SURNAME_WEIGHTS)[0]
        second_surname = rng.choices(SURNAMES, _SURNAME_WEIGHTS)[0] if rng.random() < 0.92 else None
    else:
        first, second_surname = surnames
    if born is None and rng.random() < 0.93:
        born = date(rng.randint(1962, 2008), 1, 1) + timedelta(days=rng.randint(0, 364))
    person = {"nombres": given, "primer_apellido": first, "segundo_apellido": second_surname, "sexo": sex,
              "fecha_nacimiento": born.isoformat() if born else None,
              "edad_estimada": None if born else rng.randint(18, 60),
              "pasaporte": _passport(index) if rng.random() < 0.35 else None,
              "telefono": _phone(index, False) if rng.random() < 0.7 else None,
              "telefono_contacto": _phone(index, True) if rng.random() < 0.55 else None,
              "municipio_origen": rng.choices(_MUNICIPALITY_CODES, _MUNICIPALITY_WEIGHTS)[0]
              if rng.random() < 0.9 else None}
    return person


def noise_persons(count: int, seed: int = SEED + 1, first_index: int = 1_000_000):
    """`count` further persons from the same distributions (a generator: the 1M database streams them)."""
    rng = random.Random(seed)
    for offset in range(count):
        yield make_person(rng, first_index + offset)


# -- variants ------------------------------------------------------------------------------------------------

def _typo(rng: random.Random, word: str) -> str:
    """One realistic slip in a word: a sound spelled otherwise, a letter left out, doubled or swapped."""
    lower = word.lower()
    swaps = [(a, b) for a, b in SOUND_SWAPS if a in lower]
    if swaps and rng.random() < 0.5:
        a, b = rng.choice(swaps)
        at = lower.index(a)
        return word[:at] + (b.upper() if at == 0 and b else b) + word[at + len(a):]
    if len(word) < 4:
        return word + word[-1]
    at = rng.randint(1, len(word) - 2)
    kind = rng.choice(["drop", "double", "swap", "vowel"])
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    vowels = "aeiou"
    if word[at].lower() in vowels:
        return word[:at] + rng.choice([v for v in vowels if v != word[at].lower()]) + word[at + 1:]
    return word[:at] + word[at + 1:]


def _query_base(person: dict, rng: random.Random | None = None) -> dict:
    """The fields an officer retypes (the registry's identifiers are added by the variants that use them); the
    origin municipality is left out of 15 % of the queries (not asked, or not known)."""
    query = {k: person[k] for k in ("nombres", "primer_apellido", "segundo_apellido", "sexo", "fecha_nacimiento",
                                    "edad_estimada", "municipio_origen")}
    if rng is not None and rng.random() < 0.15:
        query["municipio_origen"] = None
    return query


def _name_variant(rng: random.Random, person: dict, kind: str, q: dict) -> dict | None:
    """The classes that change how the name is written; None when `kind` is not one of them or does not apply."""
    given = person["nombres"].split()
    if kind in ("second_surname_dropped", "surname_dropped_and_accents") and person["segundo_apellido"]:
        q["segundo_apellido"] = None
        if kind == "surname_dropped_and_accents":
            q = {k: _strip_accents(v).upper() if isinstance(v, str) and k != "fecha_nacimiento" else v
                 for k, v in q.items()}
            q["sexo"] = person["sexo"]
        return q
    if kind == "first_surname_dropped" and person["segundo_apellido"]:
        q["primer_apellido"], q["segundo_apellido"] = person["segundo_apellido"], None
        return q
    whole = person["nombres"] + person["primer_apellido"] + (person["segundo_apellido"] or "")
    if kind == "accents_dropped" and _strip_accents(whole) != whole:
        for key in ("nombres", "primer_apellido", "segundo_apellido"):
            q[key] = _strip_accents(q[key]) if q[key] else q[key]
        return q
    if kind == "nickname" and given[0] in NICKNAMES:
        q["nombres"] = " ".join([rng.choice(NICKNAMES[given[0]]), *given[1:]]) if rng.random() < 0.5 else \
            rng.choice(NICKNAMES[given[0]])
        return q
    if kind == "surnames_swapped" and person["segundo_apellido"]:
        q["primer_apellido"], q["segundo_apellido"] = person["segundo_apellido"], person["primer_apellido"]
        return q
    if kind == "given_names_swapped" and len(given) == 2:
        q["nombres"] = f"{given[1]} {given[0]}"
        return q
    if kind == "given_name_dropped" and len(given) == 2 and person["segundo_apellido"]:
        q["nombres"] = given[0] if rng.random() < 0.6 else given[1]
        return q
    if kind == "surnames_in_one_field" and person["segundo_apellido"]:
        q["primer_apellido"], q["segundo_apellido"] = f"{person['primer_apellido']} {person['segundo_apellido']}", None
        return q
    return None


def _other_variant(rng: random.Random, person: dict, kind: str, q: dict, other: dict) -> dict | None:
    """The classes that change the birth date, or keep only an identifier under another person's name."""
    born = date.fromisoformat(person["fecha_nacimiento"]) if person["fecha_nacimiento"] else None
    if kind == "date_day_month" and born and born.day <= 12 and born.day != born.month:
        q["fecha_nacimiento"] = date(born.year, born.day, born.month).isoformat()
        return q
    if kind == "date_year_off" and born and not (born.month == 2 and born.day == 29):
        q["fecha_nacimiento"] = born.replace(year=born.year + rng.choice((-1, 1))).isoformat()
        return q
    if kind == "age_only" and born:
        q["fecha_nacimiento"] = None
        q["edad_estimada"] = (date(2026, 12, 7) - born).days // 365 + rng.choice((-1, 0, 1))
        return q
    if kind == "passport_other_name" and person["pasaporte"]:
        q.update({k: other[k] for k in ("nombres", "primer_apellido", "segundo_apellido", "municipio_origen")})
        q["pasaporte"] = person["pasaporte"].lower() if rng.random() < 0.3 else person["pasaporte"]
        return q
    if kind == "phone_only" and person["telefono"]:
        q.update({k: other[k] for k in ("nombres", "primer_apellido", "segundo_apellido")})
        q["fecha_nacimiento"], q["edad_estimada"] = None, None
        digits = person["telefono"].replace("+504 ", "")
        q["telefono"] = rng.choice([digits, person["telefono"], "504" + digits.replace("-", "")])
        return q
    if kind == "family_phone_only" and person["telefono_contacto"]:
        q.update({k: other[k] for k in ("nombres", "primer_apellido", "segundo_apellido")})
        q["telefono_contacto"] = person["telefono_contacto"].replace("+504 ", "")
        return q
    return None


def _variant(rng: random.Random, person: dict, kind: str, other: dict) -> tuple[str, dict]:
    """(the class actually applied, query form data) for one person; falls back to a typo when a class does not
    apply to this person (no second surname, no nickname, a day above 12...)."""
    q = _query_base(person, rng)
    if kind == "exact":
        return kind, q
    changed = _name_variant(rng, person, kind, q) or _other_variant(rng, person, kind, q, other)
    if changed is not None:
        return kind, changed
    # a typo in one of the names
    field = rng.choice(["nombres", "primer_apellido"] + (["segundo_apellido"] if person["segundo_apellido"] else []))
    words = q[field].split()
    at = rng.randrange(len(words))
    words[at] = _typo(rng, words[at])
    q[field] = " ".join(words)
    return "typo", q


def _negative(rng: random.Random, kind: str, person: dict, index: int) -> dict:
    if kind == "sibling":
        born = date.fromisoformat(person["fecha_nacimiento"]) if person["fecha_nacimiento"] else date(1990, 5, 5)
        years = rng.choice((-1, 1)) * rng.randint(2, 9)
        sibling = make_person(rng, index, surnames=(person["primer_apellido"], person["segundo_apellido"]),
                              born=born + timedelta(days=365 * years + rng.randint(-100, 100)))
        while sibling["nombres"].split()[0] == person["nombres"].split()[0]:
            sibling = make_person(rng, index, surnames=(person["primer_apellido"], person["segundo_apellido"]),
                                  born=born + timedelta(days=365 * years))
        sibling["municipio_origen"] = person["municipio_origen"]  # same family, same home town
        return _query_base(sibling, rng)
    if kind == "namesake_far_date":
        q = _query_base(person, rng)
        born = date.fromisoformat(person["fecha_nacimiento"]) if person["fecha_nacimiento"] else date(1980, 1, 1)
        q["fecha_nacimiento"] = (born + timedelta(days=365 * rng.choice((-1, 1)) * rng.randint(5, 15))).isoformat()
        q["edad_estimada"] = None
        return q
    return _query_base(make_person(rng, index), rng)


def generate(seed: int = SEED, targets: int = TARGETS, negatives: int = NEGATIVES) -> dict:
    rng = random.Random(seed)
    persons = [make_person(rng, i) for i in range(targets)]
    kinds, weights = zip(*VARIANTS.items(), strict=True)
    queries = []
    for i, person in enumerate(persons):
        other = make_person(rng, 5_000_000 + i, sex=person["sexo"])
        for _attempt in range(8):  # a class that does not apply to this person: draw another
            wanted = rng.choices(kinds, weights)[0]
            applied, data = _variant(rng, person, wanted, other)
            if applied == wanted:
                break
        queries.append({"variant": applied, "expect": i, "data": data})
    negative_kinds, negative_weights = zip(*NEGATIVE_KINDS.items(), strict=True)
    for j in range(negatives):
        kind = rng.choices(negative_kinds, negative_weights)[0]
        queries.append({"variant": f"negative_{kind}", "expect": None,
                        "data": _negative(rng, kind, rng.choice(persons), 6_000_000 + j)})
    return {"seed": seed, "generator": "tests/data/person_variants.py", "persons": persons, "queries": queries}


def load() -> dict:
    """The stored fixture (tests and `make bench` use the file, so a change to the generator shows in review)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(generate(), ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}")
