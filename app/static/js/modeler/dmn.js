/* SIPROC: the decision table editor page (dmn-js Modeler). Entry module, loaded with <script type="module"> after
 * the classic script vendor/dmn-js/dmn-modeler.production.min.js, which defines the global DmnJS.
 *
 * Page contract (templates/modeler/decision_edit.html): #dmn-canvas, #dmn-status, #dmn-form with the textarea
 * #texto holding the document's XML (the page works without JavaScript: the XML is edited and posted as text),
 * #dmn-source (the <details> around it). No inline code and no eval (Content-Security-Policy): the XML comes from
 * the textarea, and goes back through it: on submit the table is exported into the textarea, unless the person
 * edited the XML text by hand since it was loaded (then that text is what is saved).
 *
 * The module exports `ready`: a promise of the dmn-js modeler (null when it could not start). The browser tests
 * reach it with `(await import('/static/js/modeler/dmn.js')).ready`.
 */

export const MSG = {
  noLibrary: 'No se pudo cargar el editor de tablas de decisión (dmn-js). Puede editar el XML como texto.',
  loaded: 'Tabla de decisión cargada. Haga doble clic en una celda para editarla; «Guardar» la comprueba y la guarda.',
  badXml: 'La tabla no se pudo abrir en el editor visual; puede corregir el XML como texto: ',
  noTable: 'El archivo no tiene ninguna tabla de decisión que el editor visual pueda mostrar; edite el XML como texto.',
  saving: 'Guardando la tabla de decisión…',
  exportFailed: 'No se pudo generar el XML de la tabla: '
};

/* dmn-js's own labels, in Spanish (dmn-js passes every label through the `translate` service). */
const LABELS = {
  'When': 'Si', 'And': 'Y', 'Then': 'Entonces', 'Hit policy:': 'Política de aciertos:', 'View DRD': 'Ver DRD',
  'Annotations': 'Anotaciones', 'Annotation': 'Anotación', 'Add rule': 'Añadir regla', 'Add input': 'Añadir entrada',
  'Input': 'Entrada', 'Output': 'Salida', 'Input label': 'Etiqueta de la entrada', 'Output label': 'Etiqueta de la salida',
  'Output name': 'Nombre de la salida', 'Input expression': 'Expresión de la entrada', 'Expression': 'Expresión',
  'Enter expression': 'Escriba la expresión', 'Decision name': 'Nombre de la decisión', 'Resize': 'Cambiar tamaño',
  'Remove rule': 'Quitar regla', 'Remove input column': 'Quitar columna de entrada',
  'Remove output column': 'Quitar columna de salida', 'Remove cell description': 'Quitar descripción de la celda',
  'Paste rule above': 'Pegar regla encima', 'Paste rule below': 'Pegar regla debajo', 'Move rule': 'Mover regla',
  'Strings must be in double quotes': 'Los textos van entre comillas dobles', 'Yes': 'Sí', 'No': 'No',
  'Type': 'Tipo', 'Value': 'Valor', 'Values': 'Valores', 'Variable name': 'Nombre de variable',
  'Variable type': 'Tipo de variable', 'Expression language': 'Lenguaje de expresiones',
  'Search in diagram': 'Buscar en el diagrama', 'Literal expression': 'Expresión literal'
};

function translate(template, replacements) {
  replacements = replacements || {};
  return (LABELS[template] || template).replace(/{([^}]+)}/g, function (_, key) {
    return replacements[key] !== undefined ? replacements[key] : '{' + key + '}';
  });
}

function status(element, kind, text) {
  if (!element) {
    return;
  }
  element.textContent = text;
  element.className = 'small mb-2 ' + (kind === 'error' ? 'text-danger' : 'text-muted');
}

async function start() {
  var canvas = document.getElementById('dmn-canvas');
  var form = document.getElementById('dmn-form');
  var text = document.getElementById('texto');
  var source = document.getElementById('dmn-source');
  var line = document.getElementById('dmn-status');
  if (!canvas || !form || !text) {
    return null;
  }
  if (typeof window.DmnJS !== 'function') {
    status(line, 'error', MSG.noLibrary);
    return null;
  }
  canvas.hidden = false;
  var spanish = { translate: ['value', translate] };  // per view: dmn-js ignores common.additionalModules
  var modeler = new window.DmnJS({
    container: canvas,
    drd: { additionalModules: [spanish] },
    decisionTable: { additionalModules: [spanish] },
    literalExpression: { additionalModules: [spanish] },
    boxedExpression: { additionalModules: [spanish] }
  });
  try {
    await modeler.importXML(text.value);
  } catch (err) {
    canvas.hidden = true;
    status(line, 'error', MSG.badXml + (err && err.message ? err.message : String(err)));
    modeler.destroy();
    return null;
  }
  var table = modeler.getViews().find(function (view) { return view.type === 'decisionTable'; });
  if (!table) {
    canvas.hidden = true;
    status(line, 'error', MSG.noTable);
    modeler.destroy();
    return null;
  }
  await modeler.open(table);
  if (source) {
    source.open = false;  // the table is edited visually; the text stays one click away
  }
  var editedByHand = false;
  text.addEventListener('input', function () { editedByHand = true; });
  form.addEventListener('submit', async function (event) {
    if (editedByHand) {
      return;  // the person's own XML text is what is saved
    }
    event.preventDefault();
    try {
      var result = await modeler.saveXML({ format: true });
      text.value = result.xml;
    } catch (err) {
      status(line, 'error', MSG.exportFailed + (err && err.message ? err.message : String(err)));
      return;
    }
    status(line, 'info', MSG.saving);
    form.submit();
  });
  status(line, 'info', MSG.loaded);
  return modeler;
}

function whenParsed() {
  return new Promise(function (resolve) {
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', resolve);
    } else {
      resolve();
    }
  });
}

export var ready = whenParsed().then(start);
