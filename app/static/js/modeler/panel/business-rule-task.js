/* SIPROC editor, side panel section of a business rule task: the DMN decision table it evaluates
 * (spiffworkflow:calledDecisionId, the decision's id). The tables are edited on the «Decisiones» page; the editor's
 * configuration lists them (config.decisions: [decision id, file name] pairs). */
import { findExtension, isA, setTextExtension, textOf } from '../extensions.js';
import { field } from './controls.js';

var CALLED_DECISION = 'spiffworkflow:CalledDecisionId';

export var businessRuleTaskSection = {
  applies: function (element) {
    return isA(element.businessObject, 'bpmn:BusinessRuleTask');
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var current = textOf(findExtension(bo, CALLED_DECISION)).trim();
    var known = (editor.config.decisions || []).map(function (pair) {
      return [ String(pair[0]), pair[0] + ' (' + pair[1] + ')' ];
    });
    var missing = current && !known.some(function (option) { return option[0] === current; });
    if (missing) {
      known.push([ current, current + ' — no existe' ]);
    }
    var options = [ [ '', '— Elija una tabla de decisión —' ] ].concat(known);
    panel.appendChild(field('Tabla de decisión (DMN)', editor.selectControl('called-decision', options, current,
      function (v) {
        setTextExtension(editor, element, CALLED_DECISION, v);
      }), 'Las salidas de la tabla quedan como datos del proceso. Las tablas se editan en «Decisiones».',
      missing ? 'No hay ninguna tabla con esa decisión.' : null));
  }
};
