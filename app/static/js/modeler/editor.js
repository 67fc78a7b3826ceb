/* SIPROC editor: the Editor object. It owns the bpmn-js Modeler (global BpmnJS from the vendored UMD bundle),
 * keeps track of unsaved changes through the command stack, and gets its other duties from the modules below. */
import { MSG } from './messages.js';
import { translateModule } from './translations.js';
import { cspSafeIconsModule } from './csp-icons.js';
import { showStatus } from './dom.js';
import { pageMethods } from './page.js';
import { loadingMethods } from './loading.js';
import { persistenceMethods } from './persistence.js';
import { problemMethods } from './problems.js';
import { panelMethods } from './panel/panel.js';
import { controlMethods } from './panel/controls.js';

/** config: the #modeler-config JSON; ui: the page's elements; moddleExtensions: { prefix: descriptor }. */
export function Editor(config, ui, moddleExtensions) {
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
    moddleExtensions: moddleExtensions,
    additionalModules: [ translateModule, cspSafeIconsModule ]
  });

  this.canvas = this.modeler.get('canvas');
  this.modeling = this.modeler.get('modeling');
  this.moddle = this.modeler.get('moddle');
  this.bpmnFactory = this.modeler.get('bpmnFactory');
  this.selection = this.modeler.get('selection');
  this.registry = this.modeler.get('elementRegistry');
  this.overlays = this.modeler.get('overlays');
  this.commandStack = this.modeler.get('commandStack');

  // One undo step for a panel change that needs several commands (e.g. create the extension elements).
  this.commandStack.register('siproc.batch', {
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

Object.assign(Editor.prototype, pageMethods, loadingMethods, persistenceMethods, problemMethods, panelMethods,
  controlMethods);

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

/** Unsaved changes: commands since the last save, or a panel field typed into and not yet committed. */
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

Editor.prototype.status = function (kind, message, extra) {
  showStatus(this.ui.status, kind, message, extra);
};

Editor.prototype.setBusy = function (busy) {
  var ui = this.ui, blocked = !!this.blocked;
  this.busy = busy;
  [ ui.btnSave, ui.btnValidate, ui.btnPublish ].forEach(function (button) {
    if (button) {
      button.disabled = busy || (blocked && button !== ui.btnValidate);
    }
  });
  if (ui.canvas) {
    ui.canvas.setAttribute('aria-busy', busy ? 'true' : 'false');
  }
};
