/* SIPROC editor, side panel (#properties-panel): shows the sections that apply to the selected element, keeps
 * the focus and the text typed but not yet committed across re-renders, and commits each control's value
 * through its handler (all handlers go through the command stack: undo/redo work). */
import { MSG } from '../messages.js';
import { h } from '../dom.js';
import { generalSection } from './general.js';
import { laneSection } from './lane.js';
import { userTaskSection } from './user-task.js';
import { scriptTaskSection } from './script-task.js';
import { serviceTaskSection } from './service-task.js';
import { businessRuleTaskSection } from './business-rule-task.js';
import { timerSection } from './timer.js';
import { gatewayFlowSection } from './gateway-flow.js';

// In display order; each one: applies(element) and render(editor, panel, element).
var SECTIONS = [ generalSection, laneSection, userTaskSection, scriptTaskSection, serviceTaskSection,
  businessRuleTaskSection, timerSection,
  gatewayFlowSection ];

export var panelMethods = {
  scheduleRender: function () {
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
  },

  /** Commits the fields that were typed into but not yet committed (no "change" event yet). */
  flushPanel: function () {
    var self = this;
    Array.prototype.forEach.call(this.ui.panel.querySelectorAll('[data-pending]'), function (control) {
      self.commit(control);
    });
  },

  commit: function (control) {
    delete control.dataset.pending;
    var handler = control.siprocCommit;
    if (!handler || (control.siprocElementId && !this.registry.get(control.siprocElementId))) {
      return;  // nothing to apply, or the element was deleted meanwhile
    }
    try {
      handler(control.type === 'checkbox' ? control.checked : control.value);
    } catch (err) {
      this.status('error', MSG.applyFailed + (err && err.message));
      if (window.console) {
        window.console.warn(err);
      }
    }
  },

  bindControl: function (control, key, handler) {
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
  },

  renderPanel: function () {
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
  },

  renderFields: function (panel, element) {
    var self = this;
    SECTIONS.forEach(function (section) {
      if (section.applies(element)) {
        section.render(self, panel, element);
      }
    });
  }
};
