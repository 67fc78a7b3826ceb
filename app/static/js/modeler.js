/* SIPROC: the BPMN editor page (bpmn-js Modeler, global BpmnJS from vendor/bpmn-js/bpmn-modeler.production.min.js).
 *
 * Page contract: <script type="application/json" id="modeler-config">, #canvas, #properties-panel, #problems,
 * #modeler-status, #btn-save, #btn-validate, #btn-publish, #publish-comment, #btn-download.
 * No inline code and no eval (Content-Security-Policy). Every edit made in the side panel goes through the
 * command stack (modeling.updateProperties / updateModdleProperties), so undo/redo works, and the XML keeps
 * to standard BPMN plus the SpiffArena extensions (spiffworkflow:properties, instructionsForEndUser, ...).
 */
(function () {
  'use strict';

  var SCRIPT_SRC = document.currentScript ? document.currentScript.src : '';

  // ---------------------------------------------------------------- texts
  var MSG = {
    loading: 'Cargando el diagrama…',
    loaded: 'Diagrama cargado.',
    noLibrary: 'No se pudo cargar el editor de diagramas (bpmn-js). Recargue la página.',
    noDescriptor: 'No se pudo cargar la definición de las extensiones de SpiffWorkflow. Recargue la página.',
    noXml: 'No se pudo obtener el diagrama del servidor',
    badXml: 'El diagrama no se pudo abrir: ',
    importWarnings: 'El diagrama se abrió con advertencias: ',
    dropped: 'El diagrama contiene contenido que este editor no reconoce y que se perdería al guardar: ',
    droppedTail: '. Guardar y Publicar quedan desactivados para no perder datos; edite este archivo con SpiffArena ' +
      'o un editor de texto.',
    saving: 'Guardando el borrador…',
    validating: 'Validando el diagrama…',
    publishing: 'Publicando una nueva versión…',
    savedDefault: 'Borrador guardado.',
    validDefault: 'El diagrama no tiene problemas.',
    publishedDefault: 'Versión publicada.',
    failedDefault: 'La operación no se completó.',
    network: 'No se pudo conectar con el servidor. Compruebe la conexión e inténtelo de nuevo; ' +
      'los cambios siguen en el editor.',
    exportFailed: 'No se pudo generar el XML del diagrama: ',
    localCopy: 'Descargar una copia local del diagrama',
    busy: 'Espere a que termine la operación en curso.',
    unsavedDownload: 'Hay cambios sin guardar: la descarga contiene el último borrador guardado.',
    unsavedTitle: 'Hay cambios sin guardar',
    noProblems: 'Sin problemas.',
    problemsTitle: 'Problemas',
    fileProblem: 'archivo',
    panelTitle: 'Propiedades',
    panelHint: 'Seleccione un elemento del diagrama para ver y editar sus propiedades.',
    panelMany: ' elementos seleccionados. Seleccione uno solo para editarlo.',
    defaultNoCondition: 'Se quitó la condición: el camino por defecto no la necesita.'
  };

  var HTTP_MSG = {
    400: 'El servidor rechazó la solicitud (HTTP 400). Si la página llevaba mucho tiempo abierta, la sesión ' +
      'pudo caducar: descargue una copia local y recargue la página.',
    401: 'Su sesión terminó (HTTP 401). Descargue una copia local, vuelva a iniciar sesión y cárguela de nuevo.',
    403: 'No tiene permiso para esta operación o su sesión caducó (HTTP 403).',
    404: 'El servidor no encontró el diagrama (HTTP 404).',
    409: 'El diagrama cambió en el servidor mientras lo editaba (HTTP 409). Recargue la página.',
    413: 'El diagrama es demasiado grande para el servidor (HTTP 413).'
  };

  var TYPE_LABELS = {
    'bpmn:Task': 'Tarea',
    'bpmn:UserTask': 'Tarea de usuario',
    'bpmn:ScriptTask': 'Tarea de script',
    'bpmn:ServiceTask': 'Tarea de servicio',
    'bpmn:ManualTask': 'Tarea manual',
    'bpmn:SendTask': 'Tarea de envío',
    'bpmn:ReceiveTask': 'Tarea de recepción',
    'bpmn:BusinessRuleTask': 'Tarea de regla de negocio',
    'bpmn:CallActivity': 'Actividad de llamada (subproceso)',
    'bpmn:SubProcess': 'Subproceso',
    'bpmn:StartEvent': 'Evento de inicio',
    'bpmn:EndEvent': 'Evento de fin',
    'bpmn:IntermediateCatchEvent': 'Evento intermedio (espera)',
    'bpmn:IntermediateThrowEvent': 'Evento intermedio',
    'bpmn:BoundaryEvent': 'Evento de borde',
    'bpmn:ExclusiveGateway': 'Compuerta exclusiva',
    'bpmn:ParallelGateway': 'Compuerta paralela',
    'bpmn:InclusiveGateway': 'Compuerta inclusiva',
    'bpmn:EventBasedGateway': 'Compuerta basada en eventos',
    'bpmn:SequenceFlow': 'Flujo de secuencia',
    'bpmn:MessageFlow': 'Flujo de mensaje',
    'bpmn:Lane': 'Carril',
    'bpmn:Participant': 'Piscina (participante)',
    'bpmn:TextAnnotation': 'Anotación',
    'bpmn:Group': 'Grupo',
    'bpmn:DataObjectReference': 'Objeto de datos',
    'bpmn:DataStoreReference': 'Almacén de datos'
  };

  // Spanish texts for the bpmn-js palette, context pad and menus (diagram-js "translate" service).
  var UI_ES = {
    'Activate hand tool': 'Mover el lienzo',
    'Activate lasso tool': 'Seleccionar con lazo',
    'Activate create/remove space tool': 'Crear o quitar espacio',
    'Activate global connect tool': 'Conectar elementos',
    'Create start event': 'Crear evento de inicio',
    'Create intermediate/boundary event': 'Crear evento intermedio o de borde',
    'Create end event': 'Crear evento de fin',
    'Create gateway': 'Crear compuerta',
    'Create task': 'Crear tarea',
    'Create expanded sub-process': 'Crear subproceso expandido',
    'Create data object reference': 'Crear objeto de datos',
    'Create data store reference': 'Crear almacén de datos',
    'Create pool/participant': 'Crear piscina (participante)',
    'Create group': 'Crear grupo',
    'Search in diagram': 'Buscar en el diagrama',
    'Append end event': 'Añadir evento de fin',
    'Append gateway': 'Añadir compuerta',
    'Append task': 'Añadir tarea',
    'Append intermediate/boundary event': 'Añadir evento intermedio',
    'Append timer intermediate catch event': 'Añadir temporizador',
    'Append message intermediate catch event': 'Añadir espera de mensaje',
    'Append signal intermediate catch event': 'Añadir espera de señal',
    'Append conditional intermediate catch event': 'Añadir espera condicional',
    'Append receive task': 'Añadir tarea de recepción',
    'Append compensation activity': 'Añadir actividad de compensación',
    'Add text annotation': 'Añadir anotación',
    'Add lane above': 'Añadir carril arriba',
    'Add lane below': 'Añadir carril abajo',
    'Divide into two lanes': 'Dividir en dos carriles',
    'Divide into three lanes': 'Dividir en tres carriles',
    'Change element': 'Cambiar tipo de elemento',
    'Connect to other element': 'Conectar con otro elemento',
    'Connect using association': 'Conectar con una asociación',
    'Connect using data input association': 'Conectar con una asociación de datos',
    'Delete': 'Eliminar',
    'Align elements': 'Alinear elementos',
    'Distribute elements horizontally': 'Distribuir horizontalmente',
    'Distribute elements vertically': 'Distribuir verticalmente',
    'Toggle non-interrupting': 'Alternar «no interrumpe»',
    'Open {element}': 'Abrir {element}',
    'Task': 'Tarea',
    'User task': 'Tarea de usuario',
    'Script task': 'Tarea de script',
    'Service task': 'Tarea de servicio',
    'Manual task': 'Tarea manual',
    'Send task': 'Tarea de envío',
    'Receive task': 'Tarea de recepción',
    'Business rule task': 'Tarea de regla de negocio',
    'Call activity': 'Actividad de llamada (subproceso)',
    'Sub-process': 'Subproceso',
    'Sub-process (collapsed)': 'Subproceso (contraído)',
    'Sub-process (expanded)': 'Subproceso (expandido)',
    'Event sub-process': 'Subproceso de evento',
    'Ad-hoc sub-process': 'Subproceso ad hoc',
    'Ad-hoc sub-process (collapsed)': 'Subproceso ad hoc (contraído)',
    'Ad-hoc sub-process (expanded)': 'Subproceso ad hoc (expandido)',
    'Transaction': 'Transacción',
    'Exclusive gateway': 'Compuerta exclusiva',
    'Parallel gateway': 'Compuerta paralela',
    'Inclusive gateway': 'Compuerta inclusiva',
    'Complex gateway': 'Compuerta compleja',
    'Event-based gateway': 'Compuerta basada en eventos',
    'Start event': 'Evento de inicio',
    'End event': 'Evento de fin',
    'Intermediate throw event': 'Evento intermedio',
    'Boundary event': 'Evento de borde',
    'Timer start event': 'Inicio con temporizador',
    'Timer intermediate catch event': 'Temporizador intermedio',
    'Timer boundary event': 'Temporizador de borde (interrumpe)',
    'Timer boundary event (non-interrupting)': 'Temporizador de borde (no interrumpe)',
    'Message start event': 'Inicio por mensaje',
    'Message end event': 'Fin con mensaje',
    'Message intermediate catch event': 'Espera de mensaje',
    'Message intermediate throw event': 'Envío de mensaje',
    'Message boundary event': 'Mensaje de borde',
    'Signal start event': 'Inicio por señal',
    'Signal end event': 'Fin con señal',
    'Error end event': 'Fin con error',
    'Error boundary event': 'Error de borde',
    'Terminate end event': 'Fin terminante',
    'Sequence flow': 'Flujo de secuencia',
    'Default flow': 'Camino por defecto',
    'Conditional flow': 'Flujo condicional',
    'Data object reference': 'Objeto de datos',
    'Data store reference': 'Almacén de datos',
    'Loop': 'Bucle',
    'Parallel multi-instance': 'Multiinstancia paralela',
    'Sequential multi-instance': 'Multiinstancia secuencial'
  };

  function translate(template, replacements) {
    var text = Object.prototype.hasOwnProperty.call(UI_ES, template) ? UI_ES[template] : template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : match;
    });
  }

  /* bpmn-js draws the align/distribute icons as SVG markup with style="..." attributes, which a
   * Content-Security-Policy without 'unsafe-inline' styles refuses. This module runs after bpmn-js' own
   * context pad and popup menu providers and turns those declarations into SVG presentation attributes
   * (fill="none", stroke="currentColor", ...), which the policy allows: same icons, strict CSP. */
  function styleToAttributes(markup) {
    return String(markup).replace(/\sstyle="([^"]*)"/g, function (match, css) {
      return css.split(';').map(function (declaration) {
        var colon = declaration.indexOf(':');
        var name = declaration.slice(0, colon).trim(), value = declaration.slice(colon + 1).trim();
        return colon > 0 && /^[a-z-]+$/.test(name) && value ? ' ' + name + '="' + value.replace(/"/g, '') + '"' : '';
      }).join('');
    });
  }

  function cspSafeEntries(entries) {
    Object.keys(entries || {}).forEach(function (id) {
      var entry = entries[id];
      ['html', 'imageHtml'].forEach(function (key) {
        if (entry && typeof entry[key] === 'string' && entry[key].indexOf('style=') !== -1) {
          entry[key] = styleToAttributes(entry[key]);
        }
      });
    });
    return entries;
  }

  function CspSafeIcons(contextPad, popupMenu) {
    var updater = function () { return cspSafeEntries; };
    var provider = {
      getContextPadEntries: updater,
      getMultiElementContextPadEntries: updater,
      getPopupMenuEntries: updater,
      getPopupMenuHeaderEntries: updater
    };
    contextPad.registerProvider(1, provider);  // priority 1: after the providers of bpmn-js (500-1000)
    [ 'align-elements', 'bpmn-replace' ].forEach(function (menu) {
      popupMenu.registerProvider(menu, 1, provider);
    });
  }
  CspSafeIcons.$inject = [ 'contextPad', 'popupMenu' ];

  var TIMER_KINDS = [
    ['timeDuration', 'Duración (espera una vez)'],
    ['timeCycle', 'Ciclo (se repite)'],
    ['timeDate', 'Fecha y hora']
  ];
  // An ISO 8601 literal written without quotes (the server's lint refuses it: the expression is Python).
  var UNQUOTED_ISO = /^((R\d*\/)?P[0-9YMWDTHS.]+|\d{4}-\d{2}-\d{2}T[0-9:.Z+-]+)$/i;

  // ---------------------------------------------------------------- small helpers
  function readConfig(id) {
    var node = document.getElementById(id);
    if (!node) {
      return null;
    }
    try {
      return JSON.parse(node.textContent || '{}') || {};
    } catch (err) {
      return null;
    }
  }

  /** Builds an element without innerHTML: attrs (class, text, for, ...) and children (nodes or strings). */
  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) {
        return;
      }
      if (key === 'class') {
        node.className = value;
      } else if (key === 'text') {
        node.textContent = value;
      } else if (value === true) {
        node.setAttribute(key, '');
      } else {
        node.setAttribute(key, String(value));
      }
    });
    [].concat(children || []).forEach(function (child) {
      if (child !== null && child !== undefined && child !== false) {
        node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  /** Lower-case, accent-free, single-spaced text (the server's app.core.text.normalize). */
  function normalize(text) {
    return String(text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .split(/\s+/).filter(Boolean).join(' ');
  }

  function isA(obj, type) {
    return !!obj && typeof obj.$instanceOf === 'function' && obj.$instanceOf(type);
  }

  function extensionValues(bo) {
    return (bo && bo.extensionElements && bo.extensionElements.get('values')) || [];
  }

  function findExtension(bo, type) {
    return extensionValues(bo).filter(function (value) { return isA(value, type); })[0];
  }

  function propertyList(bo) {
    var props = findExtension(bo, 'spiffworkflow:properties');
    return props ? props.get('properties') : [];
  }

  function getProperty(bo, name) {
    var prop = propertyList(bo).filter(function (p) { return p.name === name; })[0];
    return prop ? prop.value : undefined;
  }

  function timerDefinition(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return isA(d, 'bpmn:TimerEventDefinition'); })[0];
  }

  function elementName(element) {
    var bo = element.businessObject;
    return (bo && (bo.name || bo.text)) || element.id;
  }

  // ---------------------------------------------------------------- the editor
  function Editor(config, ui, descriptor) {
    var self = this;
    this.config = config;
    this.ui = ui;
    this.forms = (config.forms || []).slice();
    this.roles = config.roles || [];
    this.statuses = config.case_statuses || [];
    this.position = 0;        // undo-stack position, moved by execute/undo/redo
    this.savedPosition = 0;   // position at the last successful save (NaN: unreachable)
    this.busy = false;
    this.blocked = null;      // reason why saving is refused (content that would be lost)
    this.loaded = false;
    this.problemIds = [];
    this.timerKinds = {};     // element id -> timer kind chosen before an expression exists
    this.renderPending = false;

    this.modeler = new window.BpmnJS({
      container: ui.canvas,
      moddleExtensions: { spiffworkflow: descriptor },
      additionalModules: [
        { translate: [ 'value', translate ] },
        { __init__: [ 'siprocCspSafeIcons' ], siprocCspSafeIcons: [ 'type', CspSafeIcons ] }
      ]
    });
    window.siprocModeler = this.modeler;  // for the browser tests and for debugging in the console

    this.canvas = this.modeler.get('canvas');
    this.modeling = this.modeler.get('modeling');
    this.moddle = this.modeler.get('moddle');
    this.bpmnFactory = this.modeler.get('bpmnFactory');
    this.selection = this.modeler.get('selection');
    this.registry = this.modeler.get('elementRegistry');
    this.overlays = this.modeler.get('overlays');
    this.commandStack = this.modeler.get('commandStack');

    // One undo step for a panel change that needs several commands (e.g. create the extension elements).
    var commandStack = this.commandStack;
    commandStack.register('siproc.batch', {
      preExecute: function (context) { context.run(); },
      execute: function () { return []; },
      revert: function () { return []; }
    });

    var eventBus = this.modeler.get('eventBus');
    eventBus.on('commandStack.changed', function (event) { self.onStackChanged(event.trigger); });
    eventBus.on('selection.changed', function () { self.renderPanel(); });
    eventBus.on('import.done', function () { self.renderPanel(); });

    this.bindPage();
  }

  Editor.prototype.batch = function (run) {
    this.commandStack.execute('siproc.batch', { run: run });
  };

  Editor.prototype.onStackChanged = function (trigger) {
    if (trigger === 'clear') {
      this.position = 0;
      this.savedPosition = 0;
    } else if (trigger === 'undo') {
      this.position -= 1;
    } else if (trigger === 'redo') {
      this.position += 1;
    } else {
      if (this.savedPosition > this.position) {
        this.savedPosition = NaN;  // the saved state was in the redo branch, which is gone
      }
      this.position += 1;
    }
    this.updateDirty();
    this.scheduleRender();
  };

  Editor.prototype.isDirty = function () {
    return this.position !== this.savedPosition || !!this.ui.panel.querySelector('[data-pending]');
  };

  Editor.prototype.updateDirty = function () {
    var dirty = this.position !== this.savedPosition;
    if (this.ui.btnSave) {
      this.ui.btnSave.classList.toggle('siproc-dirty', dirty);
      if (dirty) {
        this.ui.btnSave.setAttribute('title', MSG.unsavedTitle);
      } else {
        this.ui.btnSave.removeAttribute('title');
      }
    }
    document.body.classList.toggle('siproc-unsaved', dirty);
  };

  // ------------------------------------------------------------ page wiring
  Editor.prototype.bindPage = function () {
    var self = this, ui = this.ui;
    function on(button, kind) {
      if (button) {
        button.addEventListener('click', function (event) {
          event.preventDefault();
          self.send(kind);
        });
      }
    }
    on(ui.btnSave, 'save');
    on(ui.btnValidate, 'validate');
    on(ui.btnPublish, 'publish');

    if (ui.btnDownload) {
      if (!ui.btnDownload.getAttribute('href') && this.config.download_url) {
        ui.btnDownload.setAttribute('href', this.config.download_url);
      }
      ui.btnDownload.addEventListener('click', function () {
        self.flushPanel();
        if (self.isDirty()) {
          self.status('warning', MSG.unsavedDownload);
        }
      });
    }

    document.addEventListener('keydown', function (event) {
      var key = (event.key || '').toLowerCase();
      if ((event.ctrlKey || event.metaKey) && !event.altKey && key === 's') {
        event.preventDefault();
        self.send('save');
      }
    });

    window.addEventListener('beforeunload', function (event) {
      if (self.loaded && self.isDirty()) {
        event.preventDefault();
        event.returnValue = '';
        return '';
      }
      return undefined;
    });
  };

  Editor.prototype.status = function (kind, message, extra) {
    var node = this.ui.status;
    if (!node) {
      return;
    }
    var classes = { info: 'alert-info', success: 'alert-success', warning: 'alert-warning', error: 'alert-danger' };
    Object.keys(classes).forEach(function (k) { node.classList.remove(classes[k]); });
    node.classList.add('alert', classes[kind] || 'alert-info', 'siproc-status');
    node.dataset.state = kind;
    node.replaceChildren(document.createTextNode(message));
    if (extra) {
      node.appendChild(document.createTextNode(' '));
      node.appendChild(extra);
    }
  };

  Editor.prototype.setBusy = function (busy) {
    var ui = this.ui, blocked = !!this.blocked;
    this.busy = busy;
    [ui.btnSave, ui.btnValidate, ui.btnPublish].forEach(function (button) {
      if (button) {
        button.disabled = busy || (blocked && button !== ui.btnValidate);
      }
    });
    if (ui.canvas) {
      ui.canvas.setAttribute('aria-busy', busy ? 'true' : 'false');
    }
  };

  // ------------------------------------------------------------ loading
  Editor.prototype.load = async function () {
    var config = this.config;
    this.status('info', MSG.loading);
    this.setBusy(true);
    var xml;
    try {
      var response = await fetch(config.xml_url, {
        credentials: 'same-origin',
        headers: { 'Accept': 'application/xml, text/xml, */*' }
      });
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      xml = await response.text();
    } catch (err) {
      this.status('error', MSG.noXml + ' (' + err.message + ').');
      return;
    }
    var result;
    try {
      result = await this.modeler.importXML(xml);
    } catch (err) {
      this.status('error', MSG.badXml + (err && err.message ? err.message.split('\n')[0] : ''));
      return;
    }
    this.fitBesidePalette();
    this.loaded = true;
    this.ui.canvas.dataset.ready = 'true';
    this.position = 0;
    this.savedPosition = 0;
    this.updateDirty();

    var warnings = (result && result.warnings) || [];
    var dropped = [];
    warnings.forEach(function (warning) {
      var match = /unparsable content <([^>]+)>/.exec(warning.message || '');
      var line = /line: (\d+)/.exec(warning.message || '');
      if (match) {
        dropped.push('<' + match[1] + '>' + (line ? ' (línea ' + line[1] + ')' : ''));
      }
    });
    if (dropped.length) {
      this.blocked = MSG.dropped + dropped.join(', ') + MSG.droppedTail;
      this.setBusy(false);
      this.status('error', this.blocked);
    } else if (warnings.filter(function (w) { return !/^unknown attribute </.test(w.message || ''); }).length) {
      this.setBusy(false);
      this.status('warning', MSG.importWarnings + warnings.map(function (w) {
        return (w.message || '').split('\n')[0];
      }).join('; '));
    } else {
      this.setBusy(false);
      this.status('info', MSG.loaded);
    }
    this.renderPanel();
  };

  /** Fits the whole diagram in the canvas, to the right of the palette (which would cover its left part). */
  Editor.prototype.fitBesidePalette = function () {
    var canvas = this.canvas;
    canvas.zoom('fit-viewport', 'auto');
    var box = canvas.viewbox(), inner = box.inner, outer = box.outer;
    if (!inner || !inner.width || !inner.height || !outer.width || !outer.height) {
      return;
    }
    var palette = this.ui.canvas.querySelector('.djs-palette');
    var left = 16 + (palette ? Math.max(0, palette.getBoundingClientRect().right -
      this.ui.canvas.getBoundingClientRect().left) : 0);
    var scale = Math.min((outer.width - left - 16) / inner.width, (outer.height - 32) / inner.height, 1);
    if (!(scale > 0)) {
      return;
    }
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - (outer.height - inner.height * scale) / 2 / scale,
      width: outer.width / scale,
      height: outer.height / scale
    });
  };

  // ------------------------------------------------------------ save / validate / publish
  Editor.prototype.send = async function (kind) {
    this.flushPanel();
    if (!this.loaded) {
      return;
    }
    if (this.busy) {
      this.status('info', MSG.busy);
      return;
    }
    if (this.blocked && kind !== 'validate') {
      this.status('error', this.blocked);
      return;
    }
    var url = { save: this.config.save_url, validate: this.config.validate_url, publish: this.config.publish_url }[kind];
    this.setBusy(true);
    this.status('info', { save: MSG.saving, validate: MSG.validating, publish: MSG.publishing }[kind]);
    var position = this.position;
    var xml;
    try {
      xml = (await this.modeler.saveXML({ format: true })).xml;
    } catch (err) {
      this.setBusy(false);
      this.status('error', MSG.exportFailed + (err && err.message));
      return;
    }
    var body = { xml: xml };
    if (kind === 'publish') {
      body.comment = this.ui.comment ? this.ui.comment.value.trim() : '';
    }
    var result = await this.post(url, body);
    this.setBusy(false);

    var problems = Array.isArray(result.problems) ? result.problems : null;
    // Stored: a successful save or publish, or any answer that says so ("saved": true, e.g. a refused
    // publish that still kept the draft).
    if (result.saved === true || (result.ok && kind !== 'validate')) {
      this.savedPosition = position;
      this.updateDirty();
    }
    if (result.ok && kind === 'publish' && this.ui.comment) {
      this.ui.comment.value = '';
    }
    var fallback = result.ok ? { save: MSG.savedDefault, validate: MSG.validDefault,
      publish: MSG.publishedDefault }[kind] : MSG.failedDefault;
    var message = typeof result.message === 'string' && result.message ? result.message : fallback;
    var state = !result.ok ? 'error' : (problems && problems.length ? 'warning' : 'success');
    var extra = null;
    if (!result.ok && kind !== 'validate' && (result.network || result.httpError)) {
      extra = this.localCopyLink(xml);
    }
    this.status(state, message, extra);
    if (problems) {
      this.showProblems(problems);
    } else if (result.ok) {
      this.showProblems([]);
    }
  };

  Editor.prototype.post = async function (url, body) {
    var response;
    try {
      response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          'Accept': 'application/json',
          'X-CSRFToken': this.config.csrf_token || ''
        },
        body: JSON.stringify(body)
      });
    } catch (err) {
      return { ok: false, message: MSG.network, network: true };
    }
    var data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!data || typeof data !== 'object' || typeof data.ok !== 'boolean') {
      var text = HTTP_MSG[response.status] ||
        ('El servidor respondió con un error (HTTP ' + response.status + '). No se guardó nada; ' +
         'inténtelo de nuevo.');
      return { ok: false, message: text, httpError: true };
    }
    return data;
  };

  /** A link that downloads the current XML from the browser (when the server cannot take it). */
  Editor.prototype.localCopyLink = function (xml) {
    var blob = new Blob([xml], { type: 'application/xml' });
    var name = (this.config.file_name || 'diagrama').replace(/\.bpmn$/, '') + '-copia-local.bpmn';
    var link = h('a', { href: URL.createObjectURL(blob), download: name, class: 'alert-link', text: MSG.localCopy });
    return link;
  };

  // ------------------------------------------------------------ problems
  Editor.prototype.clearProblems = function () {
    var canvas = this.canvas, registry = this.registry;
    this.problemIds.forEach(function (id) {
      if (registry.get(id)) {
        canvas.removeMarker(id, 'siproc-problem');
      }
    });
    this.problemIds = [];
    this.overlays.remove({ type: 'siproc-problem' });
  };

  Editor.prototype.showProblems = function (problems) {
    var self = this, container = this.ui.problems;
    this.clearProblems();
    if (!container) {
      return;
    }
    container.replaceChildren();
    if (!problems.length) {
      container.appendChild(h('p', { class: 'siproc-no-problems text-success small mb-0', text: MSG.noProblems }));
      return;
    }
    container.appendChild(h('h2', { class: 'h6 siproc-problems-title', text: MSG.problemsTitle + ' (' + problems.length + ')' }));
    var list = h('ul', { class: 'siproc-problem-list list-unstyled mb-0' });
    var byElement = {};
    problems.forEach(function (problem) {
      var message = String(problem && problem.message || '');
      var id = problem && problem.element ? String(problem.element) : null;
      var element = id ? self.registry.get(id) : null;
      var item = h('li', { class: 'siproc-problem-item' });
      if (element) {
        var button = h('button', {
          type: 'button', class: 'btn btn-link btn-sm p-0 align-baseline siproc-problem-link',
          'data-element-id': id, text: elementName(element)
        });
        button.addEventListener('click', function () { self.reveal(id); });
        item.appendChild(button);
        item.appendChild(document.createTextNode(': ' + message));
        (byElement[id] = byElement[id] || []).push(message);
      } else {
        var where = [];
        if (id) {
          where.push(id);
        }
        if (problem && problem.file) {
          where.push(MSG.fileProblem + ' ' + problem.file);
        }
        item.appendChild(document.createTextNode((where.length ? '(' + where.join(', ') + ') ' : '') + message));
      }
      list.appendChild(item);
    });
    container.appendChild(list);

    Object.keys(byElement).forEach(function (id) {
      var messages = byElement[id];
      self.canvas.addMarker(id, 'siproc-problem');
      self.problemIds.push(id);
      var note = h('div', {
        class: 'siproc-problem-note', title: messages.join('\n'), role: 'note',
        text: '⚠ ' + messages[0] + (messages.length > 1 ? ' (+' + (messages.length - 1) + ')' : '')
      });
      note.addEventListener('click', function () { self.reveal(id); });
      self.overlays.add(id, 'siproc-problem', { position: { bottom: -6, left: 0 }, html: note });
    });
  };

  Editor.prototype.reveal = function (id) {
    var element = this.registry.get(id);
    if (!element) {
      return;
    }
    if (this.canvas.zoom() < 0.6) {
      this.canvas.zoom(0.9);
    }
    this.canvas.scrollToElement(element, 120);
    this.selection.select(element);
  };

  // ------------------------------------------------------------ model changes (all through the command stack)
  Editor.prototype.addExtension = function (element, extension) {
    var bo = element.businessObject, modeling = this.modeling;
    var container = bo.extensionElements;
    if (!container) {
      container = this.moddle.create('bpmn:ExtensionElements', { values: [ extension ] });
      container.$parent = bo;
      extension.$parent = container;
      modeling.updateModdleProperties(element, bo, { extensionElements: container });
    } else {
      extension.$parent = container;
      modeling.updateModdleProperties(element, container, { values: container.get('values').concat([ extension ]) });
    }
  };

  Editor.prototype.removeExtension = function (element, extension) {
    var bo = element.businessObject;
    var rest = extensionValues(bo).filter(function (value) { return value !== extension; });
    if (rest.length) {
      this.modeling.updateModdleProperties(element, bo.extensionElements, { values: rest });
    } else {
      this.modeling.updateModdleProperties(element, bo, { extensionElements: undefined });
    }
  };

  /** Sets (or, with an empty value, removes) spiffworkflow:property entries; other properties stay as they are. */
  Editor.prototype.setProperties = function (element, changes) {
    var self = this, bo = element.businessObject;
    var props = findExtension(bo, 'spiffworkflow:properties');
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
        var created = self.moddle.create('spiffworkflow:property', { name: name, value: value });
        list.push(created);
        listChanged = true;
      }
    });
    if (!updates.length && !listChanged) {
      return;
    }
    this.batch(function () {
      updates.forEach(function (update) {
        self.modeling.updateModdleProperties(element, update[0], { value: update[1] });
      });
      if (!listChanged) {
        return;
      }
      if (props && list.length) {
        list.forEach(function (p) { p.$parent = props; });
        self.modeling.updateModdleProperties(element, props, { properties: list });
      } else if (props) {
        self.removeExtension(element, props);
      } else {
        var created = self.moddle.create('spiffworkflow:properties', { properties: list });
        list.forEach(function (p) { p.$parent = created; });
        self.addExtension(element, created);
      }
    });
  };

  /** Sets the text of a body-only extension element (instructionsForEndUser, preScript, ...); empty removes it. */
  Editor.prototype.setTextExtension = function (element, type, text) {
    var self = this, bo = element.businessObject;
    var existing = findExtension(bo, type);
    var value = String(text || '').replace(/\s+$/, '');
    if (!value.trim()) {
      if (existing) {
        this.batch(function () { self.removeExtension(element, existing); });
      }
      return;
    }
    if (existing) {
      if (existing.text !== value) {
        this.modeling.updateModdleProperties(element, existing, { text: value });
      }
      return;
    }
    this.batch(function () { self.addExtension(element, self.moddle.create(type, { text: value })); });
  };

  Editor.prototype.setName = function (element, value) {
    var bo = element.businessObject;
    var current = isA(bo, 'bpmn:TextAnnotation') ? bo.text : (isA(bo, 'bpmn:Group') ?
      (bo.categoryValueRef && bo.categoryValueRef.value) : bo.name);
    value = String(value || '').trim();
    if ((current || '') === value) {
      return;
    }
    this.modeling.updateLabel(element, value || null);
  };

  Editor.prototype.setTimer = function (element, kind, body) {
    var definition = timerDefinition(element.businessObject);
    if (!definition) {
      return;
    }
    body = String(body || '').trim();
    var current = this.timerState(element);
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
        this.modeling.updateModdleProperties(element, existing, { body: body });
        return;
      }
      changes[kind] = this.bpmnFactory.create('bpmn:FormalExpression', { body: body });
    }
    if (Object.keys(changes).length) {
      this.modeling.updateModdleProperties(element, definition, changes);
    }
  };

  Editor.prototype.timerState = function (element) {
    var definition = timerDefinition(element.businessObject);
    for (var i = 0; definition && i < TIMER_KINDS.length; i++) {
      var expression = definition[TIMER_KINDS[i][0]];
      if (expression) {
        return { kind: TIMER_KINDS[i][0], body: expression.body || '' };
      }
    }
    return { kind: this.timerKinds[element.id] || 'timeDuration', body: '' };
  };

  Editor.prototype.setCondition = function (element, text) {
    var bo = element.businessObject, value = String(text || '').trim();
    var current = bo.conditionExpression;
    if (!value) {
      if (current) {
        this.modeling.updateProperties(element, { conditionExpression: undefined });
      }
      return;
    }
    if (current && isA(current, 'bpmn:FormalExpression')) {
      if (current.body !== value) {
        this.modeling.updateModdleProperties(element, current, { body: value });
      }
      return;
    }
    this.modeling.updateProperties(element, {
      conditionExpression: this.bpmnFactory.create('bpmn:FormalExpression', { body: value })
    });
  };

  Editor.prototype.setDefaultFlow = function (flow, isDefault) {
    var self = this, gateway = flow.source, flowBo = flow.businessObject;
    if (!gateway) {
      return;
    }
    var gatewayBo = gateway.businessObject;
    if (isDefault) {
      if (gatewayBo.default === flowBo) {
        return;
      }
      var hadCondition = !!flowBo.conditionExpression;
      this.batch(function () {
        if (hadCondition) {
          self.modeling.updateProperties(flow, { conditionExpression: undefined });
        }
        self.modeling.updateProperties(gateway, { 'default': flowBo });
      });
      if (hadCondition) {
        this.status('info', MSG.defaultNoCondition);
      }
    } else if (gatewayBo.default === flowBo) {
      this.modeling.updateProperties(gateway, { 'default': undefined });
    }
  };

  Editor.prototype.roleForLane = function (name) {
    var wanted = normalize(name);
    if (!wanted) {
      return null;
    }
    return this.roles.filter(function (role) {
      return [ role.lane, role.code ].concat(role.lane_names || []).some(function (candidate) {
        return normalize(candidate) === wanted;
      });
    })[0] || null;
  };

  /** The innermost lane whose flowNodeRef lists the flow node (what the server's lint reads). */
  Editor.prototype.laneOf = function (bo) {
    var lanes = this.registry.filter(function (el) {
      return isA(el.businessObject, 'bpmn:Lane') && (el.businessObject.flowNodeRef || []).indexOf(bo) !== -1;
    }).map(function (el) { return el.businessObject; });
    return lanes.filter(function (lane) {
      return !(lane.childLaneSet && (lane.childLaneSet.lanes || []).some(function (child) {
        return lanes.indexOf(child) !== -1;
      }));
    })[0] || null;
  };

  // ------------------------------------------------------------ side panel
  Editor.prototype.scheduleRender = function () {
    var self = this;
    if (this.renderPending) {
      return;
    }
    this.renderPending = true;
    // Deferred: a commit runs on "change", before the browser moves the focus to the next field.
    window.setTimeout(function () {
      self.renderPending = false;
      self.renderPanel();
    }, 0);
  };

  /** Commits the fields that were typed into but not yet committed (no "change" event yet). */
  Editor.prototype.flushPanel = function () {
    var self = this;
    Array.prototype.forEach.call(this.ui.panel.querySelectorAll('[data-pending]'), function (control) {
      self.commit(control);
    });
  };

  Editor.prototype.commit = function (control) {
    delete control.dataset.pending;
    var handler = control.siprocCommit;
    if (!handler || (control.siprocElementId && !this.registry.get(control.siprocElementId))) {
      return;  // nothing to apply, or the element was deleted meanwhile
    }
    try {
      handler(control.type === 'checkbox' ? control.checked : control.value);
    } catch (err) {
      this.status('error', 'No se pudo aplicar el cambio: ' + (err && err.message));
      if (window.console) {
        window.console.warn(err);
      }
    }
  };

  Editor.prototype.bindControl = function (control, key, handler) {
    var self = this;
    control.dataset.key = key;
    control.siprocCommit = handler;
    control.addEventListener('input', function () {
      if (control.tagName !== 'SELECT' && control.type !== 'checkbox') {
        control.dataset.pending = '1';
      }
    });
    control.addEventListener('change', function () { self.commit(control); });
    // A value carried over a re-render was set by script: its "change" would never come, so commit on blur.
    control.addEventListener('blur', function () {
      if (control.dataset.pending) {
        self.commit(control);
      }
    });
    if (control.tagName === 'INPUT' && control.type === 'text') {
      control.addEventListener('keydown', function (event) {
        if (event.key === 'Enter') {
          event.preventDefault();
          self.commit(control);
        }
      });
    }
    return control;
  };

  function fieldId(key) {
    return 'siproc-field-' + key;
  }

  function field(label, control, help, warning) {
    var wrap = h('div', { class: 'siproc-field mb-3' });
    if (control.type === 'checkbox') {
      wrap.className = 'siproc-field form-check mb-3';
      wrap.appendChild(control);
      wrap.appendChild(h('label', { class: 'form-check-label', for: control.id, text: label }));
    } else {
      wrap.appendChild(h('label', { class: 'form-label small fw-semibold mb-1', for: control.id, text: label }));
      wrap.appendChild(control);
    }
    var described = [];
    if (help) {
      wrap.appendChild(h('div', { id: control.id + '-help', class: 'form-text', text: help }));
      described.push(control.id + '-help');
    }
    if (warning) {
      wrap.appendChild(h('div', { id: control.id + '-warning', class: 'siproc-field-warning small', role: 'alert',
        text: warning }));
      described.push(control.id + '-warning');
    }
    if (described.length) {
      control.setAttribute('aria-describedby', described.join(' '));
    }
    return wrap;
  }

  Editor.prototype.textControl = function (key, value, handler, multiline, rows) {
    var control = multiline ?
      h('textarea', { id: fieldId(key), class: 'form-control form-control-sm', rows: rows || 3, spellcheck: 'false' }) :
      h('input', { id: fieldId(key), type: 'text', class: 'form-control form-control-sm', spellcheck: 'false',
        autocomplete: 'off' });
    control.value = value || '';
    return this.bindControl(control, key, handler);
  };

  Editor.prototype.selectControl = function (key, options, value, handler) {
    var control = h('select', { id: fieldId(key), class: 'form-select form-select-sm' });
    var known = false;
    options.forEach(function (option) {
      known = known || option[0] === (value || '');
      control.appendChild(h('option', { value: option[0], text: option[1] }));
    });
    if (!known && value) {
      control.appendChild(h('option', { value: value, text: value + ' (no está en la lista)' }));
    }
    control.value = value || '';
    return this.bindControl(control, key, handler);
  };

  Editor.prototype.checkboxControl = function (key, checked, handler) {
    var control = h('input', { id: fieldId(key), type: 'checkbox', class: 'form-check-input' });
    control.checked = !!checked;
    return this.bindControl(control, key, handler);
  };

  Editor.prototype.renderPanel = function () {
    var panel = this.ui.panel;
    if (!panel) {
      return;
    }
    // Keep the focus and any text typed but not yet committed across the re-render.
    var active = document.activeElement, focusKey = null, range = null, pending = {};
    if (active && panel.contains(active) && active.dataset) {
      focusKey = active.dataset.key || null;
      try {
        range = [ active.selectionStart, active.selectionEnd ];
      } catch (err) {
        range = null;
      }
    }
    var pendingControls = Array.prototype.slice.call(panel.querySelectorAll('[data-pending]'));
    pendingControls.forEach(function (control) {
      pending[control.dataset.key] = control.value;
    });
    var previous = panel.dataset.elementId;

    var self = this, current = this.selection.get().length === 1 ?
      (this.selection.get()[0].labelTarget || this.selection.get()[0]).id : null;
    if (pendingControls.length && previous && previous !== current) {
      // Typed into the fields of the previous element without leaving them: applied to that element, after
      // the current event (the selection may change in the middle of a command).
      window.setTimeout(function () { pendingControls.forEach(function (c) { self.commit(c); }); }, 0);
    }
    panel.replaceChildren();
    panel.classList.add('siproc-panel');
    panel.appendChild(h('h2', { class: 'h6 siproc-panel-title', text: MSG.panelTitle }));

    var selected = this.selection.get().map(function (el) { return el.labelTarget || el; })
      .filter(function (el, i, all) { return all.indexOf(el) === i; });
    if (selected.length !== 1) {
      delete panel.dataset.elementId;
      panel.appendChild(h('p', { class: 'text-muted small', text: selected.length > 1 ?
        selected.length + MSG.panelMany : MSG.panelHint }));
      return;
    }
    var element = selected[0];
    panel.dataset.elementId = element.id;
    this.renderFields(panel, element);
    Array.prototype.forEach.call(panel.querySelectorAll('[data-key]'), function (control) {
      control.siprocElementId = element.id;
    });

    if (previous === element.id) {
      Object.keys(pending).forEach(function (key) {
        var control = panel.querySelector('[data-key="' + key + '"]');
        if (control) {
          control.value = pending[key];
          control.dataset.pending = '1';
        }
      });
      if (focusKey) {
        var target = panel.querySelector('[data-key="' + focusKey + '"]');
        if (target) {
          target.focus();
          if (range && range[0] !== null && range[0] !== undefined) {
            try {
              target.setSelectionRange(range[0], range[1]);
            } catch (err) {
              // selects and checkboxes have no text selection
            }
          }
        }
      }
    }
  };

  Editor.prototype.renderFields = function (panel, element) {
    var self = this, bo = element.businessObject;
    var typeLabel = TYPE_LABELS[bo.$type] || bo.$type.replace(/^bpmn:/, '');
    panel.appendChild(h('p', { class: 'siproc-panel-type small text-muted mb-2', text: typeLabel }));

    var idControl = h('input', { id: fieldId('id'), type: 'text', class: 'form-control form-control-sm', readonly: true });
    idControl.value = element.id;
    panel.appendChild(field('Identificador', idControl, null));

    var hasName = bo.$descriptor && bo.$descriptor.propertiesByName && bo.$descriptor.propertiesByName.name;
    if (isA(bo, 'bpmn:TextAnnotation')) {
      panel.appendChild(field('Texto', this.textControl('name', bo.text, function (v) { self.setName(element, v); },
        true, 3)));
    } else if (isA(bo, 'bpmn:Group')) {
      panel.appendChild(field('Nombre', this.textControl('name', bo.categoryValueRef && bo.categoryValueRef.value,
        function (v) { self.setName(element, v); })));
    } else if (hasName && element.type !== 'label') {
      panel.appendChild(field('Nombre', this.textControl('name', bo.name, function (v) { self.setName(element, v); })));
    }

    if (isA(bo, 'bpmn:Lane')) {
      this.renderLane(panel, element);
    }
    if (isA(bo, 'bpmn:UserTask')) {
      this.renderUserTask(panel, element);
    }
    if (isA(bo, 'bpmn:ScriptTask')) {
      panel.appendChild(field('Script', this.textControl('script', bo.script, function (v) {
        var value = String(v || '').replace(/\s+$/, '');
        if ((bo.script || '') !== value) {
          self.modeling.updateProperties(element, { script: value || undefined });
        }
      }, true, 8), 'Código Python. El servidor lo revisa antes de publicar (sin import, sin nombres que empiecen por _).'));
    }
    if ((isA(bo, 'bpmn:StartEvent') || isA(bo, 'bpmn:IntermediateCatchEvent') || isA(bo, 'bpmn:BoundaryEvent')) &&
        timerDefinition(bo)) {
      this.renderTimer(panel, element);
    }
    if (isA(bo, 'bpmn:SequenceFlow') && element.source &&
        (isA(element.source.businessObject, 'bpmn:ExclusiveGateway') ||
         isA(element.source.businessObject, 'bpmn:InclusiveGateway'))) {
      this.renderGatewayFlow(panel, element);
    }
  };

  Editor.prototype.renderLane = function (panel, element) {
    var self = this, bo = element.businessObject;
    var role = this.roleForLane(bo.name);
    var options = [ [ '', '— Elija un rol —' ] ].concat(this.roles.map(function (r) { return [ r.code, r.label ]; }));
    var warning = role ? null : 'El nombre del carril «' + (bo.name || '') + '» no corresponde a ningún rol: ' +
      'las tareas de usuario de este carril no se podrán asignar y el diagrama no se podrá publicar.';
    var control = this.selectControl('lane-role', options, role ? role.code : '', function (code) {
      var chosen = self.roles.filter(function (r) { return r.code === code; })[0];
      if (chosen && chosen.lane !== bo.name) {
        self.modeling.updateLabel(element, chosen.lane);
      }
    });
    panel.appendChild(field('Rol', control, 'Quién hace las tareas de este carril. El carril toma el nombre del rol.',
      warning));
  };

  Editor.prototype.renderUserTask = function (panel, element) {
    var self = this, bo = element.businessObject, forms = this.forms;
    var lane = this.laneOf(bo);
    var laneRole = lane ? this.roleForLane(lane.name) : null;
    var laneText = lane ? (lane.name || lane.id) : '—';
    if (laneRole && normalize(laneRole.label) !== normalize(laneText)) {
      laneText += ' → ' + laneRole.label;
    }
    var laneInfo = h('input', { id: fieldId('lane'), type: 'text', class: 'form-control form-control-sm', readonly: true });
    laneInfo.value = laneText;
    panel.appendChild(field('Carril (rol)', laneInfo, null, !lane ? 'La tarea no está en ningún carril.' :
      (laneRole ? null : 'El carril no corresponde a ningún rol.')));

    var formOptions = [ [ '', '— Sin formulario —' ] ].concat(forms.filter(function (name) {
      return !/_ui\.json$/.test(name);
    }).map(function (name) { return [ name, name ]; }));
    panel.appendChild(field('Formulario', this.selectControl('form', formOptions,
      getProperty(bo, 'formJsonSchemaFilename') || '', function (name) {
        var ui = name ? name.replace(/\.json$/, '') + '_ui.json' : '';
        self.setProperties(element, {
          formJsonSchemaFilename: name || null,
          formUiSchemaFilename: ui && forms.indexOf(ui) !== -1 ? ui : null
        });
      }), 'Formulario JSON Schema que completa quien hace la tarea.'));

    panel.appendChild(field('Plazo', this.textControl('deadline', getProperty(bo, 'deadline') || '', function (v) {
      self.setProperties(element, { deadline: v });
    }), 'Duración ISO 8601 sin comillas (P2D = 2 días, PT8H = 8 horas) o una expresión que la calcule, ' +
      'p. ej. sumar_horas(registrado_en, 24). Vacío: sin plazo.'));

    var statusOptions = [ [ '', '— Sin cambio de estado —' ] ].concat(this.statuses.map(function (s) {
      return [ String(s[0]), String(s[1]) ];
    }));
    panel.appendChild(field('Estado del caso', this.selectControl('case-status', statusOptions,
      getProperty(bo, 'caseStatus') || '', function (v) {
        self.setProperties(element, { caseStatus: v || null });
      }), 'Etapa que muestra el caso mientras esta tarea está pendiente.'));

    var instructions = findExtension(bo, 'spiffworkflow:instructionsForEndUser');
    panel.appendChild(field('Instrucciones para el oficial', this.textControl('instructions',
      instructions ? instructions.text : '', function (v) {
        self.setTextExtension(element, 'spiffworkflow:instructionsForEndUser', v);
      }, true, 5), 'Se muestran sobre el formulario. Puede usar datos del caso: {{ numero_caso }}, {{ persona }}.'));
  };

  Editor.prototype.renderTimer = function (panel, element) {
    var self = this, bo = element.businessObject;
    var state = this.timerState(element);
    var kindControl = this.selectControl('timer-kind', TIMER_KINDS, state.kind, function (kind) {
      self.timerKinds[element.id] = kind;
      var body = self.ui.panel.querySelector('[data-key="timer-expression"]');
      self.setTimer(element, kind, body ? body.value : self.timerState(element).body);
    });
    panel.appendChild(field('Tipo de temporizador', kindControl, null));
    var warning = UNQUOTED_ISO.test(state.body.trim()) ?
      'Falta poner la expresión entre comillas: escriba "' + state.body.trim() + '".' : null;
    panel.appendChild(field('Expresión', this.textControl('timer-expression', state.body, function (v) {
      var current = self.timerState(element);
      self.setTimer(element, self.timerKinds[element.id] || current.kind, v);
    }), 'Una expresión Python: los valores fijos van entre comillas, p. ej. "P7D" (7 días), "R/P7D" (cada 7 días) ' +
      'o "2025-03-31T09:00:00-06:00".', warning));
    if (isA(bo, 'bpmn:BoundaryEvent')) {
      panel.appendChild(field('Interrumpe la tarea', this.checkboxControl('cancel-activity', bo.cancelActivity !== false,
        function (checked) {
          if ((bo.cancelActivity !== false) !== checked) {
            self.modeling.updateProperties(element, { cancelActivity: checked });
          }
        }), 'Si está marcado, al vencer el temporizador la tarea se cancela y el proceso sigue por este evento.'));
    }
  };

  Editor.prototype.renderGatewayFlow = function (panel, element) {
    var self = this, bo = element.businessObject;
    var isDefault = element.source.businessObject.default === bo;
    var condition = bo.conditionExpression ? (bo.conditionExpression.body || '') : '';
    var control = this.textControl('condition', condition, function (v) { self.setCondition(element, v); }, true, 2);
    if (isDefault) {
      control.disabled = true;
    }
    panel.appendChild(field('Condición', control, isDefault ?
      'El camino por defecto se toma cuando ninguna otra condición se cumple; no lleva condición.' :
      'Expresión Python con los datos del caso, p. ej. categoria == "DET". Vacío: sin condición.'));
    panel.appendChild(field('Camino por defecto', this.checkboxControl('default-flow', isDefault, function (checked) {
      self.setDefaultFlow(element, checked);
    }), null));
  };

  // ---------------------------------------------------------------- start
  async function start() {
    var config = readConfig('modeler-config');
    var ui = {
      canvas: document.getElementById('canvas'),
      panel: document.getElementById('properties-panel'),
      problems: document.getElementById('problems'),
      status: document.getElementById('modeler-status'),
      btnSave: document.getElementById('btn-save'),
      btnValidate: document.getElementById('btn-validate'),
      btnPublish: document.getElementById('btn-publish'),
      comment: document.getElementById('publish-comment'),
      btnDownload: document.getElementById('btn-download')
    };
    if (!config || !ui.canvas) {
      return;
    }
    if (!ui.panel) {
      ui.panel = h('aside', { id: 'properties-panel' });
      ui.canvas.insertAdjacentElement('afterend', ui.panel);
    }
    var fail = function (message) {
      Editor.prototype.status.call({ ui: ui }, 'error', message);
    };
    if (typeof window.BpmnJS !== 'function') {
      fail(MSG.noLibrary);
      return;
    }
    var descriptorUrl = config.moddle_url ||
      (SCRIPT_SRC ? new URL('spiffworkflow-moddle.json', SCRIPT_SRC).href : '/static/js/spiffworkflow-moddle.json');
    var descriptor;
    try {
      var response = await fetch(descriptorUrl, { credentials: 'same-origin' });
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      descriptor = await response.json();
    } catch (err) {
      fail(MSG.noDescriptor);
      return;
    }
    var editor = new Editor(config, ui, descriptor);
    window.siprocEditor = editor;
    await editor.load();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
