"""Places abroad: countries and their states or provinces (ISO 3166-2), named in Spanish by pycountry."""
import functools
import gettext

import pycountry

from ..core.text import normalize

NETWORK_COUNTRIES = ("MX", "US", "GT", "ES", "HN")
COUNTRY_NAMES_ES = {"MX": "México", "US": "Estados Unidos", "GT": "Guatemala", "ES": "España", "HN": "Honduras"}


@functools.cache
def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 countries named in Spanish; the network's countries first."""
    spanish = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    names = {c.alpha_2: spanish.gettext(c.name) for c in pycountry.countries}
    rest = sorted((code for code in names if code not in NETWORK_COUNTRIES), key=lambda code: normalize(names[code]))
    return [(code, names[code]) for code in (*NETWORK_COUNTRIES, *rest)]


def country_name(code: str | None) -> str:
    return dict(country_choices()).get(code or "", code or "")


@functools.cache
def subdivision_choices() -> list[tuple[str, str]]:
    """States, provinces and departments of the countries where the network works (MX-CHP: Chiapas (México))."""
    spanish = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    choices = []
    for country in NETWORK_COUNTRIES:
        subdivisions = [s for s in pycountry.subdivisions.get(country_code=country) if s.parent_code is None]
        for sub in sorted(subdivisions, key=lambda s: normalize(s.name)):
            choices.append((sub.code, f"{spanish.gettext(sub.name)} ({COUNTRY_NAMES_ES[country]})"))
    return choices


def subdivision_country(code: str | None) -> str | None:
    """The country of an ISO 3166-2 code, or None when the code does not exist."""
    found = pycountry.subdivisions.get(code=code) if code else None
    return found.country_code if found else None
