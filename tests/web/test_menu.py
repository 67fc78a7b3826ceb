"""The menu is what the policy allows: each role sees the links it may open (and each answers), nothing more."""
import re

import pytest

EXPECTED = {
    "oficial.tap": {"Casos", "Traslados"},
    "consul.tap": {"Casos", "Traslados", "Casos por paso", "Estadísticas"},
    "analista": {"Casos", "Traslados", "Casos por paso", "Estadísticas"},
    "gestor": {"Casos", "Traslados", "Procesos", "Formularios", "Decisiones", "Estadísticas"},
    "admin": {"Casos", "Traslados", "Casos por paso", "Estadísticas", "Usuarios", "Catálogos", "Auditoría",
              "Retención", "Planificador"},
}


def _menu(html):
    nav = html.split('<ul class="navbar-nav', 1)[1].split("</ul>\n      <form", 1)[0]
    return dict(re.findall(r'<a class="(?:nav-link|dropdown-item)[^"]*" href="(/[^"]*)">([^<]+)</a>', nav))


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_the_links_it_may_open(login, username):
    client = login(username)
    links = _menu(client.get("/casos/").get_data(as_text=True))
    assert set(links.values()) == EXPECTED[username]
    for href in links:
        assert client.get(href, follow_redirects=True).status_code == 200, href
    new_case = 'href="/casos/nuevo"' in client.get("/casos/").get_data(as_text=True)
    assert new_case == (username in ("oficial.tap", "consul.tap"))


def test_the_open_page_is_marked_in_the_menu(login):
    html = login("admin").get("/admin/usuarios/").get_data(as_text=True)
    assert re.search(r'class="nav-link dropdown-toggle active"[^>]*>Administración', html)
    assert not re.search(r'class="nav-link active" href="/casos/"', html)
