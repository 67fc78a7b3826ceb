/* SIPROC editor, side panel section for every element: type, identifier and name (or text). */
import { TYPE_LABELS } from '../messages.js';
import { h } from '../dom.js';
import { isA } from '../extensions.js';
import { field, readonlyControl } from './controls.js';

export function setName(editor, element, value) {
  var bo = element.businessObject;
  var current = isA(bo, 'bpmn:TextAnnotation') ? bo.text : (isA(bo, 'bpmn:Group') ?
    (bo.categoryValueRef && bo.categoryValueRef.value) : bo.name);
  value = String(value || '').trim();
  if ((current || '') === value) {
    return;
  }
  editor.modeling.updateLabel(element, value || null);
}

export var generalSection = {
  applies: function () {
    return true;
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var onName = function (v) { setName(editor, element, v); };
    var typeLabel = TYPE_LABELS[bo.$type] || bo.$type.replace(/^bpmn:/, '');
    panel.appendChild(h('p', { class: 'siproc-panel-type small text-muted mb-2', text: typeLabel }));
    panel.appendChild(field('Identificador', readonlyControl('id', element.id), null));

    var hasName = bo.$descriptor && bo.$descriptor.propertiesByName && bo.$descriptor.propertiesByName.name;
    if (isA(bo, 'bpmn:TextAnnotation')) {
      panel.appendChild(field('Texto', editor.textControl('name', bo.text, onName, true, 3)));
    } else if (isA(bo, 'bpmn:Group')) {
      panel.appendChild(field('Nombre', editor.textControl('name', bo.categoryValueRef && bo.categoryValueRef.value,
        onName)));
    } else if (hasName && element.type !== 'label') {
      panel.appendChild(field('Nombre', editor.textControl('name', bo.name, onName)));
    }
  }
};
