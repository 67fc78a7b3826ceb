/* SIPROC: the BPMN editor page (bpmn-js Modeler). Entry module, loaded with <script type="module"> after the
 * classic script vendor/bpmn-js/bpmn-modeler.production.min.js, which defines the global BpmnJS.
 *
 * Page contract: <script type="application/json" id="modeler-config">, #canvas, #properties-panel, #problems,
 * #modeler-status, #btn-save, #btn-validate, #btn-publish, #publish-comment, #btn-download.
 * No inline code and no eval (Content-Security-Policy). Every edit made in the side panel goes through the
 * command stack (modeling.updateProperties / updateModdleProperties), so undo/redo works, and the XML keeps
 * to standard BPMN plus the SpiffArena extensions (spiffworkflow:properties, instructionsForEndUser, ...).
 *
 * Moddle descriptors: moddle/spiffworkflow.json (SpiffWorkflow's, vendored verbatim: see moddle/README.md) and
 * moddle/siproc.json (what SIPROC's diagrams use on top of it, still written in the spiffworkflow namespace).
 *
 * The module exports `ready`: a promise of the Editor (null when the page is not an editor page or the editor
 * could not start). Nothing is put on window; the browser tests reach the editor with
 * `(await import('/static/js/modeler/main.js')).ready`.
 */
import { MSG } from './messages.js';
import { h, readConfig, showStatus } from './dom.js';
import { fetchJson } from './client.js';
import { Editor } from './editor.js';

var SPIFFWORKFLOW_DESCRIPTOR = new URL('./moddle/spiffworkflow.json', import.meta.url).href;
var SIPROC_DESCRIPTOR = new URL('./moddle/siproc.json', import.meta.url).href;

function pageElements() {
  return {
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
}

async function start() {
  var config = readConfig('modeler-config');
  var ui = pageElements();
  if (!config || !ui.canvas) {
    return null;
  }
  if (!ui.panel) {
    ui.panel = h('aside', { id: 'properties-panel' });
    ui.canvas.insertAdjacentElement('afterend', ui.panel);
  }
  if (typeof window.BpmnJS !== 'function') {
    showStatus(ui.status, 'error', MSG.noLibrary);
    return null;
  }
  var moddleExtensions;
  try {
    // Order matters: siproc.json extends types of spiffworkflow.json.
    var descriptors = await Promise.all([
      fetchJson(config.moddle_url || SPIFFWORKFLOW_DESCRIPTOR), fetchJson(SIPROC_DESCRIPTOR)
    ]);
    moddleExtensions = { spiffworkflow: descriptors[0], siproc: descriptors[1] };
  } catch (err) {
    showStatus(ui.status, 'error', MSG.noDescriptor);
    return null;
  }
  var editor = new Editor(config, ui, moddleExtensions);
  await editor.load();
  return editor;
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
