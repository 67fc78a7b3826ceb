/* SIPROC editor, side panel section of a sequence flow leaving an exclusive or inclusive gateway: its condition
 * (a Python expression) and whether it is the gateway's default flow (which carries no condition). */
import { MSG } from '../messages.js';
import { isA } from '../extensions.js';
import { field } from './controls.js';

export function setCondition(editor, element, text) {
  var bo = element.businessObject, value = String(text || '').trim();
  var current = bo.conditionExpression;
  if (!value) {
    if (current) {
      editor.modeling.updateProperties(element, { conditionExpression: undefined });
    }
    return;
  }
  if (current && isA(current, 'bpmn:FormalExpression')) {
    if (current.body !== value) {
      editor.modeling.updateModdleProperties(element, current, { body: value });
    }
    return;
  }
  editor.modeling.updateProperties(element, {
    conditionExpression: editor.bpmnFactory.create('bpmn:FormalExpression', { body: value })
  });
}

export function setDefaultFlow(editor, flow, isDefault) {
  var gateway = flow.source, flowBo = flow.businessObject, modeling = editor.modeling;
  if (!gateway) {
    return;
  }
  var gatewayBo = gateway.businessObject;
  if (isDefault) {
    if (gatewayBo.default === flowBo) {
      return;
    }
    var hadCondition = !!flowBo.conditionExpression;
    editor.batch(function () {
      if (hadCondition) {
        modeling.updateProperties(flow, { conditionExpression: undefined });
      }
      modeling.updateProperties(gateway, { 'default': flowBo });
    });
    if (hadCondition) {
      editor.status('info', MSG.defaultNoCondition);
    }
  } else if (gatewayBo.default === flowBo) {
    modeling.updateProperties(gateway, { 'default': undefined });
  }
}

export var gatewayFlowSection = {
  applies: function (element) {
    return isA(element.businessObject, 'bpmn:SequenceFlow') && !!element.source &&
      (isA(element.source.businessObject, 'bpmn:ExclusiveGateway') ||
       isA(element.source.businessObject, 'bpmn:InclusiveGateway'));
  },

  render: function (editor, panel, element) {
    var bo = element.businessObject;
    var isDefault = element.source.businessObject.default === bo;
    var condition = bo.conditionExpression ? (bo.conditionExpression.body || '') : '';
    var control = editor.textControl('condition', condition, function (v) { setCondition(editor, element, v); },
      true, 2);
    if (isDefault) {
      control.disabled = true;
    }
    panel.appendChild(field('Condición', control, isDefault ?
      'El camino por defecto se toma cuando ninguna otra condición se cumple; no lleva condición.' :
      'Expresión Python con los datos del caso, p. ej. categoria == "DET". Vacío: sin condición.'));
    panel.appendChild(field('Camino por defecto', editor.checkboxControl('default-flow', isDefault, function (checked) {
      setDefaultFlow(editor, element, checked);
    }), null));
  }
};
