/* SIPROC editor, side panel section of a timer event (start, intermediate catch, boundary): the kind of timer,
 * its expression (bpmn:timeDuration / timeCycle / timeDate, a Python expression) and, on a boundary event,
 * whether it interrupts the task. */
import { isA } from '../extensions.js';
import { field } from './controls.js';

var TIMER_KINDS = [
  [ 'timeDuration', 'Duración (espera una vez)' ],
  [ 'timeCycle', 'Ciclo (se repite)' ],
  [ 'timeDate', 'Fecha y hora' ]
];
// An ISO 8601 literal written without quotes (the server's lint refuses it: the expression is Python).
var UNQUOTED_ISO = /^((R\d*\/)?P[0-9YMWDTHS.]+|\d{4}-\d{2}-\d{2}T[0-9:.Z+-]+)$/i;

function timerDefinition(bo) {
  return (bo.eventDefinitions || []).filter(function (d) { return isA(d, 'bpmn:TimerEventDefinition'); })[0];
}

/** { kind, body } of the timer; without an expression, the kind chosen in the panel (default timeDuration). */
export function timerState(editor, element) {
  var definition = timerDefinition(element.businessObject);
  for (var i = 0; definition && i < TIMER_KINDS.length; i++) {
    var expression = definition[TIMER_KINDS[i][0]];
    if (expression) {
      return { kind: TIMER_KINDS[i][0], body: expression.body || '' };
    }
  }
  return { kind: editor.timerKinds[element.id] || 'timeDuration', body: '' };
}

export function setTimer(editor, element, kind, body) {
  var definition = timerDefinition(element.businessObject);
  if (!definition) {
    return;
  }
  body = String(body || '').trim();
  var current = timerState(editor, element);
  if (current.kind === kind && current.body === body) {
    return;
  }
  var changes = {};
  TIMER_KINDS.forEach(function (pair) {
    if (definition[pair[0]] && (pair[0] !== kind || !body)) {
      changes[pair[0]] = undefined;
    }
  });
  if (body) {
    var existing = definition[kind];
    if (existing && current.kind === kind) {
      editor.modeling.updateModdleProperties(element, existing, { body: body });
      return;
    }
    changes[kind] = editor.bpmnFactory.create('bpmn:FormalExpression', { body: body });
  }
  if (Object.keys(changes).length) {
    editor.modeling.updateModdleProperties(element, definition, changes);
  }
}

export var timerSection = {
  applies: function (element) {
    var bo = element.businessObject;
    return (isA(bo, 'bpmn:StartEvent') || isA(bo, 'bpmn:IntermediateCatchEvent') || isA(bo, 'bpmn:BoundaryEvent')) &&
      !!timerDefinition(bo);
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var state = timerState(editor, element);
    var kindControl = editor.selectControl('timer-kind', TIMER_KINDS, state.kind, function (kind) {
      editor.timerKinds[element.id] = kind;
      var body = editor.ui.panel.querySelector('[data-key="timer-expression"]');
      setTimer(editor, element, kind, body ? body.value : timerState(editor, element).body);
    });
    panel.appendChild(field('Tipo de temporizador', kindControl, null));
    var warning = UNQUOTED_ISO.test(state.body.trim()) ?
      'Falta poner la expresión entre comillas: escriba "' + state.body.trim() + '".' : null;
    panel.appendChild(field('Expresión', editor.textControl('timer-expression', state.body, function (v) {
      var current = timerState(editor, element);
      setTimer(editor, element, editor.timerKinds[element.id] || current.kind, v);
    }), 'Una expresión Python: los valores fijos van entre comillas, p. ej. "P7D" (7 días), "R/P7D" (cada 7 días) ' +
      'o "2025-03-31T09:00:00-06:00".', warning));
    if (isA(bo, 'bpmn:BoundaryEvent')) {
      panel.appendChild(field('Interrumpe la tarea', editor.checkboxControl('cancel-activity',
        bo.cancelActivity !== false, function (checked) {
          if ((bo.cancelActivity !== false) !== checked) {
            editor.modeling.updateProperties(element, { cancelActivity: checked });
          }
        }), 'Si está marcado, al vencer el temporizador la tarea se cancela y el proceso sigue por este evento.'));
    }
  }
};
