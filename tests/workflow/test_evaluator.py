"""The restricted evaluator: escapes are refused statically and at run time; ordinary code works."""
import pytest

from app.workflow.evaluator import RestrictedCodeError, RestrictedEnvironment, check_source

ESCAPES = [
    ("__import__('os').system('id')", "eval"),
    ("().__class__.__bases__[0].__subclasses__()", "eval"),
    ("open('/etc/passwd').read()", "eval"),
    ("import os", "exec"),
    ("from os import path", "exec"),
    ("getattr((), '__class__')", "eval"),
    ("eval('1')", "eval"),
    ("exec('x = 1')", "exec"),
    ("globals()", "eval"),
    ("'{0.__class__}'.format(1)", "eval"),
    ("(lambda: 1).__globals__", "eval"),
    ("[x for x in ().__class__.__mro__]", "eval"),
    ("type(1)", "eval"),
    ("9 ** 9 ** 9", "eval"),
    ("def _hidden(): pass", "exec"),
    ("class A: pass", "exec"),
    ("try:\n    x = 1\nexcept Exception:\n    pass", "exec"),
]


@pytest.mark.parametrize("source,mode", ESCAPES)
def test_static_check_refuses_escapes(source, mode):
    assert check_source(source, mode)


@pytest.mark.parametrize("source,mode", ESCAPES)
def test_runtime_refuses_escapes(source, mode):
    env = RestrictedEnvironment()
    with pytest.raises(RestrictedCodeError):
        if mode == "eval":
            env.evaluate(source, {})
        else:
            env.execute(source, {})


@pytest.mark.parametrize("source,context,expected", [
    ("requiere_remision == True", {"requiere_remision": True}, True),
    ('decision_cierre == "aprobar"', {"decision_cierre": "rechazar"}, False),
    ("len(necesidades) > 1 and nivel_riesgo in ('alto', 'critico')",
     {"necesidades": ["a", "b"], "nivel_riesgo": "alto"}, True),
    ('dias_entre("2026-11-01", "2026-11-29")', {}, 28),
    ("max([monto, 10]) * 2 ** 3", {"monto": 5}, 80),
    ('"P%dD" % dias', {"dias": 7}, "P7D"),
])
def test_ordinary_expressions_evaluate(source, context, expected):
    assert check_source(source) == []
    assert RestrictedEnvironment().evaluate(source, context) == expected


def test_scripts_assign_task_data_and_leave_no_builtins_behind():
    context = {"valor": 4}
    RestrictedEnvironment().execute("doble = valor * 2\nlista = sorted([3, 1, 2])", context)
    assert context == {"valor": 4, "doble": 8, "lista": [1, 2, 3]}


def test_builtins_cannot_be_reached_through_task_data():
    with pytest.raises(NameError):
        RestrictedEnvironment().evaluate("chr(65)", {})  # a builtin outside the whitelist
