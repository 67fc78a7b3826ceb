/* SIPROC editor: small DOM and text helpers (no innerHTML anywhere: Content-Security-Policy, no injection). */

/** The JSON of a <script type="application/json" id="..."> element; null if missing or invalid. */
export function readConfig(id) {
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
export function h(tag, attrs, children) {
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

/** Shows a message in the #modeler-status line (kind: info, success, warning, error), with an optional node. */
export function showStatus(node, kind, message, extra) {
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
}

/** Lower-case, accent-free, single-spaced text (the server's app.core.text.normalize). */
export function normalize(text) {
  return String(text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .split(/\s+/).filter(Boolean).join(' ');
}
