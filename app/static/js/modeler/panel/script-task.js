/* SIPROC editor, side panel section of a script task: the Python script (bpmn:script). */
import { isA } from '../extensions.js';
import { field } from './controls.js';

export var scriptTaskSection = {
  applies: function (element) {
    return isA(element.businessObject, 'bpmn:ScriptTask');
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    panel.appendChild(field('Script', editor.textControl('script', bo.script, function (v) {
      var value = String(v || '').replace(/\s+$/, '');
      if ((bo.script || '') !== value) {
        editor.modeling.updateProperties(element, { script: value || undefined });
      }
    }, true, 8), 'Código Python. El servidor lo revisa antes de publicar (sin import, sin nombres que empiecen por _).'));
  }
};
