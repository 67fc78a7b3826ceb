/* SIPROC editor, side panel section of a user task: lane (role), form, deadline, case status and the
 * instructions for the officer, kept as spiffworkflow:properties and spiffworkflow:instructionsForEndUser. */
import { normalize } from '../dom.js';
import { INSTRUCTIONS, findExtension, getProperty, isA, setProperties, setTextExtension, textOf }
  from '../extensions.js';
import { field, readonlyControl } from './controls.js';
import { laneOf, roleForLane } from './lane.js';

export var userTaskSection = {
  applies: function (element) {
    // a manual task and an untyped task wait for a person too (SpiffWorkflow): the same lane, form and instructions
    var bo = element.businessObject;
    return isA(bo, 'bpmn:UserTask') || isA(bo, 'bpmn:ManualTask') || bo.$type === 'bpmn:Task';
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject, forms = editor.forms;
    var lane = laneOf(editor, bo);
    var laneRole = lane ? roleForLane(editor, lane.name) : null;
    var laneText = lane ? (lane.name || lane.id) : '—';
    if (laneRole && normalize(laneRole.label) !== normalize(laneText)) {
      laneText += ' → ' + laneRole.label;
    }
    panel.appendChild(field('Carril (rol)', readonlyControl('lane', laneText), null,
      !lane ? 'La tarea no está en ningún carril.' : (laneRole ? null : 'El carril no corresponde a ningún rol.')));

    var formOptions = [ [ '', '— Sin formulario —' ] ].concat(forms.filter(function (name) {
      return !/(_ui|-uischema)\.json$/.test(name);
    }).map(function (name) { return [ name, name ]; }));
    panel.appendChild(field('Formulario', editor.selectControl('form', formOptions,
      getProperty(bo, 'formJsonSchemaFilename') || '', function (name) {
        // its UI schema by convention: x.json -> x_ui.json, SpiffArena's x-schema.json -> x-uischema.json
        var base = name.replace(/(-schema)?\.json$/, '');
        var ui = name ? [ base + '-uischema.json', base + '_ui.json' ].filter(function (candidate) {
          return forms.indexOf(candidate) !== -1;
        })[0] : null;
        setProperties(editor, element, {
          formJsonSchemaFilename: name || null,
          formUiSchemaFilename: ui || null
        });
      }), 'Formulario JSON Schema que completa quien hace la tarea.'));

    panel.appendChild(field('Plazo', editor.textControl('deadline', getProperty(bo, 'deadline') || '', function (v) {
      setProperties(editor, element, { deadline: v });
    }), 'Duración ISO 8601 sin comillas (P2D = 2 días, PT8H = 8 horas) o una expresión que la calcule, ' +
      'p. ej. sumar_horas(registrado_en, 24). Vacío: sin plazo.'));

    var statusOptions = [ [ '', '— Sin cambio de estado —' ] ].concat(editor.statuses.map(function (s) {
      return [ String(s[0]), String(s[1]) ];
    }));
    panel.appendChild(field('Estado del caso', editor.selectControl('case-status', statusOptions,
      getProperty(bo, 'caseStatus') || '', function (v) {
        setProperties(editor, element, { caseStatus: v || null });
      }), 'Etapa que muestra el caso mientras esta tarea está pendiente.'));

    panel.appendChild(field('Instrucciones para el oficial', editor.textControl('instructions',
      textOf(findExtension(bo, INSTRUCTIONS)), function (v) {
        setTextExtension(editor, element, INSTRUCTIONS, v);
      }, true, 5), 'Se muestran sobre el formulario. Puede usar datos del caso: {{ numero_caso }}, {{ persona }}.'));
  }
};
