/* SIPROC editor, side panel section of a lane: the role whose officers do its user tasks (the lane is named
 * after the role; the server's lint matches lanes to roles by name). */
import { normalize } from '../dom.js';
import { isA } from '../extensions.js';
import { field } from './controls.js';

/** The role of config.roles whose lane name, code or other lane names match the name, or null. */
export function roleForLane(editor, name) {
  var wanted = normalize(name);
  if (!wanted) {
    return null;
  }
  return editor.roles.filter(function (role) {
    return [ role.lane, role.code ].concat(role.lane_names || []).some(function (candidate) {
      return normalize(candidate) === wanted;
    });
  })[0] || null;
}

/** The innermost lane whose flowNodeRef lists the flow node (what the server's lint reads). */
export function laneOf(editor, bo) {
  var lanes = editor.registry.filter(function (el) {
    return isA(el.businessObject, 'bpmn:Lane') && (el.businessObject.flowNodeRef || []).indexOf(bo) !== -1;
  }).map(function (el) { return el.businessObject; });
  return lanes.filter(function (lane) {
    return !(lane.childLaneSet && (lane.childLaneSet.lanes || []).some(function (child) {
      return lanes.indexOf(child) !== -1;
    }));
  })[0] || null;
}

export var laneSection = {
  applies: function (element) {
    return isA(element.businessObject, 'bpmn:Lane');
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var role = roleForLane(editor, bo.name);
    var options = [ [ '', '— Elija un rol —' ] ].concat(editor.roles.map(function (r) { return [ r.code, r.label ]; }));
    var warning = role ? null : 'El nombre del carril «' + (bo.name || '') + '» no corresponde a ningún rol: ' +
      'las tareas de usuario de este carril no se podrán asignar y el diagrama no se podrá publicar.';
    var control = editor.selectControl('lane-role', options, role ? role.code : '', function (code) {
      var chosen = editor.roles.filter(function (r) { return r.code === code; })[0];
      if (chosen && chosen.lane !== bo.name) {
        editor.modeling.updateLabel(element, chosen.lane);
      }
    });
    panel.appendChild(field('Rol', control, 'Quién hace las tareas de este carril. El carril toma el nombre del rol.',
      warning));
  }
};
