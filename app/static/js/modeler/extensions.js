/* SIPROC editor: bpmn:extensionElements and the SpiffWorkflow extensions in them (spiffworkflow:properties,
 * spiffworkflow:instructionsForEndUser, ...), read from and written to the business objects of bpmn-js.
 * Type names are those of the vendored SpiffWorkflow descriptor (moddle/spiffworkflow.json, tagAlias lowerCase:
 * spiffworkflow:Properties is written <spiffworkflow:properties>). Every write goes through the command stack
 * (modeling.updateModdleProperties), inside editor.batch when it takes several commands: one undo step. */

export var PROPERTIES = 'spiffworkflow:Properties';
export var PROPERTY = 'spiffworkflow:Property';
export var INSTRUCTIONS = 'spiffworkflow:InstructionsForEndUser';

export function isA(obj, type) {
  return !!obj && typeof obj.$instanceOf === 'function' && obj.$instanceOf(type);
}

export function extensionValues(bo) {
  return (bo && bo.extensionElements && bo.extensionElements.get('values')) || [];
}

export function findExtension(bo, type) {
  return extensionValues(bo).filter(function (value) { return isA(value, type); })[0];
}

export function propertyList(bo) {
  var props = findExtension(bo, PROPERTIES);
  return props ? props.get('properties') : [];
}

/** The value of the spiffworkflow:property called name, or undefined. */
export function getProperty(bo, name) {
  var prop = propertyList(bo).filter(function (p) { return p.name === name; })[0];
  return prop ? prop.value : undefined;
}

function bodyName(extension) {
  var body = extension && extension.$descriptor && extension.$descriptor.bodyProperty;
  return body ? body.name : 'value';
}

/** The text of a body-only extension element (instructionsForEndUser, preScript, ...); '' when absent. */
export function textOf(extension) {
  return extension ? (extension.get(bodyName(extension)) || '') : '';
}

export function addExtension(editor, element, extension) {
  var bo = element.businessObject, modeling = editor.modeling;
  var container = bo.extensionElements;
  if (!container) {
    container = editor.moddle.create('bpmn:ExtensionElements', { values: [ extension ] });
    container.$parent = bo;
    extension.$parent = container;
    modeling.updateModdleProperties(element, bo, { extensionElements: container });
  } else {
    extension.$parent = container;
    modeling.updateModdleProperties(element, container, { values: container.get('values').concat([ extension ]) });
  }
}

export function removeExtension(editor, element, extension) {
  var bo = element.businessObject;
  var rest = extensionValues(bo).filter(function (value) { return value !== extension; });
  if (rest.length) {
    editor.modeling.updateModdleProperties(element, bo.extensionElements, { values: rest });
  } else {
    editor.modeling.updateModdleProperties(element, bo, { extensionElements: undefined });
  }
}

/** Sets (or, with an empty value, removes) spiffworkflow:property entries; other properties stay as they are. */
export function setProperties(editor, element, changes) {
  var bo = element.businessObject, moddle = editor.moddle, modeling = editor.modeling;
  var props = findExtension(bo, PROPERTIES);
  var list = props ? props.get('properties').slice() : [];
  var updates = [], listChanged = false;
  Object.keys(changes).forEach(function (name) {
    var value = changes[name] === null || changes[name] === undefined ? '' : String(changes[name]).trim();
    var existing = list.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (existing) {
        list = list.filter(function (p) { return p.name !== name; });
        listChanged = true;
      }
    } else if (existing) {
      if (existing.value !== value) {
        updates.push([ existing, value ]);
      }
    } else {
      list.push(moddle.create(PROPERTY, { name: name, value: value }));
      listChanged = true;
    }
  });
  if (!updates.length && !listChanged) {
    return;
  }
  editor.batch(function () {
    updates.forEach(function (update) {
      modeling.updateModdleProperties(element, update[0], { value: update[1] });
    });
    if (!listChanged) {
      return;
    }
    if (props && list.length) {
      list.forEach(function (p) { p.$parent = props; });
      modeling.updateModdleProperties(element, props, { properties: list });
    } else if (props) {
      removeExtension(editor, element, props);
    } else {
      var created = moddle.create(PROPERTIES, { properties: list });
      list.forEach(function (p) { p.$parent = created; });
      addExtension(editor, element, created);
    }
  });
}

/** Sets the text of a body-only extension element (instructionsForEndUser, preScript, ...); empty removes it. */
export function setTextExtension(editor, element, type, text) {
  var bo = element.businessObject;
  var existing = findExtension(bo, type);
  var value = String(text || '').replace(/\s+$/, '');
  if (!value.trim()) {
    if (existing) {
      editor.batch(function () { removeExtension(editor, element, existing); });
    }
    return;
  }
  if (existing) {
    if (textOf(existing) !== value) {
      var changes = {};
      changes[bodyName(existing)] = value;
      editor.modeling.updateModdleProperties(element, existing, changes);
    }
    return;
  }
  editor.batch(function () {
    var created = editor.moddle.create(type);
    created.set(bodyName(created), value);
    addExtension(editor, element, created);
  });
}
