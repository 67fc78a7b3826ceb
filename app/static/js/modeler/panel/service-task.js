/* SIPROC editor, side panel section of a service task: the connector (one of SIPROC's own, from the catalogue the
 * page hands over as config.connectors) and one input per parameter it declares, written as SpiffArena writes them:
 *   <spiffworkflow:serviceTaskOperator id="siproc/aviso_rol" resultVariable="...">
 *     <spiffworkflow:parameters><spiffworkflow:parameter id="rol" type="str" value="&quot;supervisor&quot;" />
 * Each value is diagram code (a Python expression the server checks); texts of kind "template" and roles are
 * typed as plain text here and written as a quoted literal. An empty parameter is left out of the XML. */
import { h } from '../dom.js';
import { addExtension, findExtension, isA, removeExtension } from '../extensions.js';
import { field } from './controls.js';

var OPERATOR = 'spiffworkflow:ServiceTaskOperator';
var TXT = {
  connector: 'Conector',
  choose: '— Elija un conector —',
  connectorHelp: 'Las tareas de servicio solo ejecutan los conectores de SIPROC; actúan sobre el caso del proceso.',
  none: 'No hay conectores disponibles.',
  result: 'Variable del resultado',
  resultHelp: 'Nombre de la variable que recibe lo que devuelve el conector (opcional).',
  required: ' (obligatorio)',
  yes: 'Sí (True)',
  no: 'No (False)',
  empty: '— Vacío —',
  expression: 'Expresión con los datos del caso; un texto fijo va entre comillas, p. ej. "Retorno asistido".',
  template: 'Texto fijo, sin comillas; puede usar {numero_caso} y {oficina}.',
  number: 'Número o expresión que lo calcule.'
};

function operatorOf(bo) {
  return findExtension(bo, OPERATOR);
}

function parametersOf(operator) {
  var list = operator && operator.get('parameterList');
  var values = {};
  ((list && list.get('parameters')) || []).forEach(function (p) {
    if (p.id) {
      values[p.id] = p.value || '';
    }
  });
  return values;
}

/** A Python string literal holding text (JSON's double-quoted form is one). */
export function literal(text) {
  return text ? JSON.stringify(String(text)) : '';
}

/** The text inside a double- or single-quoted literal; null when the value is an expression. */
export function unquote(value) {
  var source = String(value || '').trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(source)) {
    try {
      return JSON.parse(source);
    } catch (err) {
      return null;
    }
  }
  if (/^'[^'\\]*'$/.test(source)) {
    return source.slice(1, -1);
  }
  return source ? null : '';
}

/** Replaces the service task's operator with connector `id` and these raw parameter values (one undo step). */
export function writeOperator(editor, element, connector, values, resultVariable) {
  var bo = element.businessObject, moddle = editor.moddle;
  var existing = operatorOf(bo);
  var attrs = { id: connector ? connector.id : '' };
  if (resultVariable) {
    attrs.resultVariable = resultVariable;
  }
  var created = moddle.create(OPERATOR, attrs);
  var rows = [];
  ((connector && connector.params) || []).forEach(function (param) {
    var value = String(values[param.id] || '').trim();
    if (value) {
      rows.push(moddle.create('spiffworkflow:Parameter', { id: param.id, type: param.type, value: value }));
    }
  });
  if (rows.length) {
    var list = moddle.create('spiffworkflow:Parameters', { parameters: rows });
    rows.forEach(function (row) { row.$parent = list; });
    list.$parent = created;
    created.set('parameterList', list);
  }
  editor.batch(function () {
    if (existing) {
      removeExtension(editor, element, existing);
    }
    if (connector) {
      addExtension(editor, element, created);
    }
  });
}

function paramControl(editor, param, raw, commit) {
  var key = 'svc-param-' + param.id;
  if (param.kind === 'role') {
    var options = [ [ '', TXT.empty ] ].concat((editor.roles || []).map(function (role) {
      return [ literal(role.code), String(role.label) ];
    }));
    return editor.selectControl(key, options, raw, commit);
  }
  if (param.kind === 'boolean') {
    return editor.selectControl(key, [ [ '', TXT.empty ], [ 'True', TXT.yes ], [ 'False', TXT.no ] ], raw, commit);
  }
  if (param.kind === 'template') {
    var text = unquote(raw);
    if (text !== null) {  // typed as plain text, written as a literal
      return editor.textControl(key, text, function (v) { commit(literal(String(v || '').trim())); });
    }
  }
  return editor.textControl(key, raw, commit);
}

function helpOf(param) {
  var help = param.help ? param.help + ' ' : '';
  if (param.kind === 'template') {
    return help + TXT.template;
  }
  if (param.kind === 'number') {
    return help + TXT.number;
  }
  if (param.kind === 'text' || param.kind === 'expression') {
    return help + TXT.expression;
  }
  return help || null;
}

export var serviceTaskSection = {
  applies: function (element) {
    return isA(element.businessObject, 'bpmn:ServiceTask');
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var connectors = (editor.config && editor.config.connectors) || [];
    // Read at commit time, never from this render: a control may commit twice (Enter, then "change").
    var state = function () {
      var operator = operatorOf(bo);
      var id = operator ? (operator.id || '') : '';
      return { id: id, connector: connectors.filter(function (c) { return c.id === id; })[0] || null,
        values: parametersOf(operator), result: operator ? (operator.resultVariable || '') : '' };
    };
    var now = state(), connector = now.connector;

    var options = [ [ '', TXT.choose ] ].concat(connectors.map(function (c) { return [ c.id, c.label ]; }));
    panel.appendChild(field(TXT.connector, editor.selectControl('svc-connector', options, now.id, function (id) {
      var current = state();
      var chosen = connectors.filter(function (c) { return c.id === id; })[0] || null;
      if ((chosen ? chosen.id : '') !== current.id) {
        writeOperator(editor, element, chosen, current.connector ? current.values : {}, current.result);
      }
    }), connector && connector.description ? connector.description : TXT.connectorHelp,
    connectors.length ? null : TXT.none));
    if (!connector) {
      return;
    }
    var box = h('div', { class: 'siproc-service-params', 'data-connector': connector.id });
    panel.appendChild(box);
    connector.params.forEach(function (param) {
      var control = paramControl(editor, param, now.values[param.id] || '', function (v) {
        var current = state();
        if (current.connector !== connector) {
          return;  // the connector changed meanwhile: this field belongs to the previous one
        }
        var next = Object.assign({}, current.values);
        next[param.id] = String(v || '').trim();
        if ((current.values[param.id] || '') !== next[param.id]) {
          writeOperator(editor, element, connector, next, current.result);
        }
      });
      box.appendChild(field(param.label + (param.required ? TXT.required : ''), control, helpOf(param)));
    });
    panel.appendChild(field(TXT.result, editor.textControl('svc-result', now.result, function (v) {
      var current = state(), name = String(v || '').trim();
      if (current.connector === connector && name !== current.result) {
        writeOperator(editor, element, connector, current.values, name);
      }
    }), TXT.resultHelp));
  }
};
