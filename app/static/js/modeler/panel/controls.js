/* SIPROC editor, side panel: the form controls (text, select, checkbox) and the labelled field around them.
 * A control commits its value through its handler on "change" (see panel.js, bindControl). */
import { h } from '../dom.js';

export function fieldId(key) {
  return 'siproc-field-' + key;
}

/** A labelled field: label, control, optional help text and warning (both tied with aria-describedby). */
export function field(label, control, help, warning) {
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

/** A read-only text input (identifier, lane). */
export function readonlyControl(key, value) {
  var control = h('input', { id: fieldId(key), type: 'text', class: 'form-control form-control-sm', readonly: true });
  control.value = value;
  return control;
}

export var controlMethods = {
  textControl: function (key, value, handler, multiline, rows) {
    var control = multiline ?
      h('textarea', { id: fieldId(key), class: 'form-control form-control-sm', rows: rows || 3, spellcheck: 'false' }) :
      h('input', { id: fieldId(key), type: 'text', class: 'form-control form-control-sm', spellcheck: 'false',
        autocomplete: 'off' });
    control.value = value || '';
    return this.bindControl(control, key, handler);
  },

  selectControl: function (key, options, value, handler) {
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
  },

  checkboxControl: function (key, checked, handler) {
    var control = h('input', { id: fieldId(key), type: 'checkbox', class: 'form-check-input' });
    control.checked = !!checked;
    return this.bindControl(control, key, handler);
  }
};
