"""Name matching for duplicate detection: name parts, a Spanish sound key, nicknames, and similarity scores.

Pure functions on plain values (no database): app.cases.persons stores the keys these functions compute on
each person (indexed blocking columns) and scores the persons a block finds.

- `name_parts` splits a name as Honduran registries write it: given names, first (father's) and second
  (mother's) surname, either of which may be missing; particles (de, del, la...) are dropped, and two words
  typed in the first-surname field with no second surname are read as both surnames.
- `sound_key` is a Spanish phonetic key: letters that sound alike in Latin-American Spanish fold together
  (b/v, s/z/c before e-i, c/k/q, g/j before e-i, ll/y, silent h) and vowels after the first letter are
  dropped, so common typos and spellings (Nuñez/Nunes, Florez/Flores, Yesenia/Llesenia) share one key.
- `canonical_given` replaces nicknames (Chepe -> José) from the data file nicknames.csv.
- `name_similarity` and `date_relation` score a candidate; persons.py turns them into a decision and reasons.
"""
import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from ..core.text import normalize

NICKNAMES_FILE = Path(__file__).with_name("nicknames.csv")
PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "di", "van", "von", "mc"})
MAX_NAME_CHARS = 200   # longer input is cut before matching (a name field holds far less)
KEY_LENGTH = 12        # stored sound keys are cut to this many characters
_NOT_LETTER = re.compile(r"[^a-z ]+")


def tokens(text: str | None) -> list[str]:
    """Lower-case, accent-free words of Latin letters; particles dropped, other characters as spaces."""
    cleaned = _NOT_LETTER.sub(" ", normalize((text or "")[:MAX_NAME_CHARS]))
    return [t for t in cleaned.split() if t not in PARTICLES]


@lru_cache(maxsize=1)
def nicknames() -> dict[str, tuple[str, ...]]:
    """nickname -> the given names it may stand for (normalized), from nicknames.csv."""
    table: dict[str, list[str]] = {}
    with NICKNAMES_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if line.strip() and not line.startswith("#"))
        for row in rows:
            nick, name = " ".join(tokens(row["nickname"])), " ".join(tokens(row["name"]))
            if nick and name and name not in table.setdefault(nick, []):
                table[nick].append(name)
    return {nick: tuple(names) for nick, names in table.items()}


def canonical_given(words: list[str]) -> list[tuple[str, ...]]:
    """The readings of given-name words: as typed, and with nicknames replaced (each name it may stand for).

    ["chepe"] -> [("chepe",), ("jose",)]; ["maru"] -> [("maru",), ("maria", "eugenia")].
    """
    table = nicknames()
    readings = [tuple(words)]
    whole = " ".join(words)
    for name in table.get(whole, ()):
        readings.append(tuple(name.split()))
    for i, word in enumerate(words):
        for name in table.get(word, ()):
            readings.append(tuple(words[:i]) + tuple(name.split()) + tuple(words[i + 1:]))
    return list(dict.fromkeys(readings))


_SOUND_RULES = [
    (re.compile(r"ch"), "1"),          # ch: its own sound (kept apart from c/k and s)
    (re.compile(r"ll"), "y"),
    (re.compile(r"qu(?=[ei])"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"gu(?=[ei])"), "2"),  # Miguel, Guillermo: hard g (2 until the soft g is done)
    (re.compile(r"g(?=[ei])"), "j"),   # Gerardo, Jerardo
    (re.compile(r"c(?=[ei])"), "s"),   # Cesar, Sesar
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"x"), "s"),           # Xiomara
    (re.compile(r"[vw]"), "b"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"h"), ""),            # silent h (ch is already 1)
    (re.compile(r"y(?![aeiou])"), "i"),  # y as a vowel: Yvonne, Eloy
    (re.compile(r"n(?=[bp])"), "m"),
    (re.compile(r"2"), "g"),
]


@lru_cache(maxsize=65536)
def sound_key(word: str | None) -> str:
    """Spanish phonetic key of one word: "Hernández" -> "ernds", "Fernandes" -> "frnds", "" for nothing."""
    text = "".join(tokens(word))
    if not text:
        return ""
    for pattern, replacement in _SOUND_RULES:
        text = pattern.sub(replacement, text)
    if not text:
        return ""
    head, tail = text[0], re.sub(r"[aeiouy]", "", text[1:])
    key = head + tail
    collapsed = "".join(ch for i, ch in enumerate(key) if i == 0 or ch != key[i - 1])
    return collapsed[:KEY_LENGTH]


@dataclass(frozen=True)
class NameParts:
    """A name split for matching: given-name readings (the first as typed) and up to two surnames."""

    given: tuple[str, ...]
    surnames: tuple[str, ...]
    readings: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def text(self) -> str:
        return " ".join(self.given + self.surnames)


@lru_cache(maxsize=65536)
def name_parts(given: str | None, first: str | None, second: str | None) -> NameParts:
    """Split a name; 'López Martínez' typed as first surname with no second one counts as both surnames."""
    given_words = tokens(given)[:6]
    first_words, second_words = tokens(first), tokens(second)
    if not second_words and len(first_words) >= 2:
        first_words, second_words = first_words[:1], first_words[1:]
    surnames = tuple(" ".join(w) for w in (first_words[:3], second_words[:3]) if w)
    return NameParts(tuple(given_words), surnames, tuple(canonical_given(given_words)) if given_words else ())


@lru_cache(maxsize=1)
def nicknames_of() -> dict[str, tuple[str, ...]]:
    """Reverse table: a name's first word -> the nicknames that may stand for it ("jose" -> chepe, pepe...)."""
    table: dict[str, list[str]] = {}
    for nick, names in nicknames().items():
        for name in names:
            table.setdefault(name.split()[0], []).append(nick)
    return {word: tuple(nicks) for word, nicks in table.items()}


def given_sounds(parts: NameParts) -> set[str]:
    """Sound keys a query looks up the stored first given name with: every word of every reading, and the
    nicknames of those words (a person registered as "Chepe" is found by "José")."""
    words = {w for reading in parts.readings for w in reading}
    reverse = nicknames_of()
    words |= {nick.split()[0] for w in list(words) for nick in reverse.get(w, ())}
    return {sound_key(w) for w in words} - {""}


def surname_sounds(parts: NameParts) -> set[str]:
    return {sound_key(s.split()[0]) for s in parts.surnames} - {""}


def stored_keys(given: str | None, first: str | None, second: str | None) -> dict:
    """The blocking keys stored on a person: sound keys of the first given name and of each surname.

    The given name is stored as typed; a query looks it up with its nicknames both ways (see given_sounds).
    """
    parts = name_parts(given, first, second)
    return {
        "given_name_sound": sound_key(parts.given[0]) if parts.given else "",
        "first_surname_sound": sound_key(parts.surnames[0].split()[0]) if parts.surnames else "",
        "second_surname_sound": sound_key(parts.surnames[1].split()[0]) if len(parts.surnames) > 1 else "",
    }


def _word_ratio(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    score = fuzz.ratio(a, b)
    if score < 92 and " ".join(sound_key(w) for w in a.split()) == " ".join(sound_key(w) for w in b.split()):
        score = 92.0  # sounds alike: Nuñez / Nunes, Velásquez / Velazquez
    return score


@dataclass
class NameScore:
    score: float
    given: float
    surnames: float
    notes: set = field(default_factory=set)  # "nickname", "surname_missing", "surnames_swapped", "given_order"


def _given_score(query: NameParts, person: NameParts) -> tuple[float, set]:
    theirs = [" ".join(r) for r in (person.readings or ((),))]
    best, notes = 0.0, set()
    for index, reading in enumerate(query.readings or ((),)):
        mine = " ".join(reading)
        for other in theirs:
            if not mine or not other:
                continue
            ordered = fuzz.ratio(mine, other)
            anyorder = fuzz.token_sort_ratio(mine, other)
            subset = fuzz.token_set_ratio(mine, other) - 10  # one given name left out
            sound = 88.0 if " ".join(sorted(sound_key(w) for w in reading)) == " ".join(
                sorted(sound_key(w) for w in other.split())) else 0.0  # José / Jesús sound alike: less sure
            score = max(ordered, anyorder - 2, subset, sound)
            if index > 0:
                score -= 2  # a nickname reading: slightly less sure than the name as typed
            if score > best:
                best, notes = score, set()
                if index > 0:
                    notes.add("nickname")
                if anyorder - 2 > ordered and anyorder - 2 >= subset:
                    notes.add("given_order")
    return best, notes


def _surname_score(query: NameParts, person: NameParts) -> tuple[float, set]:
    mine, theirs = query.surnames, person.surnames
    if not mine or not theirs:
        return 0.0, set()
    if len(mine) == 2 and len(theirs) == 2:
        straight = (_word_ratio(mine[0], theirs[0]) + _word_ratio(mine[1], theirs[1])) / 2
        swapped = (_word_ratio(mine[0], theirs[1]) + _word_ratio(mine[1], theirs[0])) / 2 - 3
        return (straight, set()) if straight >= swapped else (swapped, {"surnames_swapped"})
    if len(mine) == 1 and len(theirs) == 1:
        return _word_ratio(mine[0], theirs[0]), set()
    one, two = (mine, theirs) if len(mine) == 1 else (theirs, mine)
    first, second = _word_ratio(one[0], two[0]) - 6, _word_ratio(one[0], two[1]) - 9
    return max(first, second), {"surname_missing"}


@lru_cache(maxsize=65536)
def name_similarity(query: NameParts, person: NameParts) -> NameScore:
    """0-100: given names (40 %) and surnames (60 %), tolerant of a missing surname, order and nicknames."""
    given, given_notes = _given_score(query, person)
    surnames, surname_notes = _surname_score(query, person)
    score = 0.4 * given + 0.6 * surnames
    whole = fuzz.token_sort_ratio(query.text, person.text) - 3  # names typed in the wrong fields
    if whole > score:
        score = whole
    return NameScore(round(score, 1), given, surnames, given_notes | surname_notes)


# date relations, strongest first; CLOSE is a slip in the day (see _slip)
CLOSE_DAYS = 3
EXACT, SWAPPED, YEAR_OFF, CLOSE, AGE, UNKNOWN, FAR = "exact", "swapped", "year_off", "close", "age", "unknown", "far"


def swapped_date(day: date | None) -> date | None:
    """The date with day and month exchanged (3 April <-> 4 March), when that is another valid date."""
    if day is None or day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


def shifted_year(day: date, years: int) -> date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return None


def date_relation(birth: date | None, age: int | None, other_birth: date | None, other_age: int | None,
                  today: date) -> str:
    """How two persons' birth data relate: exact, day/month swapped, a year off, close, age close, unknown, far."""
    if birth and other_birth:
        if birth == other_birth:
            return EXACT
        if swapped_date(birth) == other_birth:
            return SWAPPED
        if (birth.month, birth.day) == (other_birth.month, other_birth.day) and abs(birth.year - other_birth.year) == 1:
            return YEAR_OFF
        return CLOSE if _slip(birth, other_birth) else FAR
    mine = _age(birth, today) if birth else age
    theirs = _age(other_birth, today) if other_birth else other_age
    if mine is None or theirs is None:
        return UNKNOWN
    return AGE if abs(int(mine) - int(theirs)) <= 2 else FAR


def date_bonus(relation: str, birth: date | None, age: int | None, other_birth: date | None,
               other_age: int | None, today: date) -> float:
    """Points added to the name score for the birth data: exact +3 ... an age two years off -1, no data -3."""
    if relation == AGE:
        mine = _age(birth, today) if birth else age
        theirs = _age(other_birth, today) if other_birth else other_age
        return 1.0 - abs(int(mine) - int(theirs))
    return {EXACT: 3.0, SWAPPED: 1.0, YEAR_OFF: 0.0, CLOSE: -1.0}.get(relation, -3.0)


def _slip(one: date, other: date) -> bool:
    """A typing slip in the day: at most CLOSE_DAYS apart, or the same month with one digit of the day changed
    or the two digits exchanged (08 / 03, 12 / 21)."""
    if abs((one - other).days) <= CLOSE_DAYS:
        return True
    if (one.year, one.month) != (other.year, other.month):
        return False
    a, b = f"{one.day:02d}", f"{other.day:02d}"
    return a[0] == b[0] or a[1] == b[1] or a == b[::-1]


def _age(day: date, today: date) -> int:
    return today.year - day.year - ((today.month, today.day) < (day.month, day.day))


# minimum name score for each date relation (FAR never matches by name)
NAME_FLOOR = {EXACT: 80, SWAPPED: 82, YEAR_OFF: 86, CLOSE: 89, AGE: 89, UNKNOWN: 93}
GIVEN_FLOOR = 72  # twins and siblings share surnames and dates: the given names must be alike too
GIVEN_FLOOR_WEAK = 91  # ... and all there and more alike when the dates say less (a year off, a slip, an age)
# How strong a match is: an identifier or an exact (or day/month swapped) date is tier 0, a year off or a close
# date tier 1, an age or no date tier 2. Only the strongest tier found is shown (see persons.duplicate_candidates).
TIER = {EXACT: 0, SWAPPED: 0, YEAR_OFF: 1, CLOSE: 1, AGE: 2, UNKNOWN: 2}


def phone_digits(value: str | None, region: str | None = "HN") -> str | None:
    """The digits a phone is matched by (E.164 without '+', as PersonPhone.digits); None when not a phone."""
    from ..core.errors import DomainError
    from .identity import normalize_phone  # identity imports the form machinery: only when needed

    text = (value or "").strip()[:60]
    if not text:
        return None
    try:
        parsed = normalize_phone(text, region)
    except DomainError:  # not a phone number: nothing to match
        return None
    return parsed[1][:20] if parsed else None


def birth_year(birth: date | None, estimated_age: int | None, registered_year: int) -> int | None:
    """The year a person was born, or about: from the birth date, else the registration year minus the age."""
    if birth:
        return birth.year
    if estimated_age is not None:
        return registered_year - int(estimated_age)
    return None
