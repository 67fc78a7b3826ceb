/* SIPROC: read-only diagram (bpmn-js NavigatedViewer, global BpmnJS from
 * vendor/bpmn-js/bpmn-navigated-viewer.production.min.js, a classic script loaded before this module).
 *
 * Page contract: <div id="case-diagram" class="diagram-viewer"></div> and
 * <script type="application/json" id="viewer-config">{"xml_url", "completed", "current", "timers", "counts"}</script>
 * (all keys optional). Ids that are not in the diagram are ignored. No inline code, no eval (CSP).
 * Loaded with <script type="module">; exports `ready`, a promise of the viewer (null when there is none).
 */
import { fetchText } from './modeler/client.js';

var MARKERS = [
  // config key, marker class, legend text
  [ 'completed', 'siproc-done', 'Completado' ],
  [ 'current', 'siproc-current', 'En curso' ],
  [ 'timers', 'siproc-timer', 'Recordatorio o plazo programado' ]
];

function h(tag, className, text) {
  var node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  return node;
}

function readConfig() {
  var node = document.getElementById('viewer-config');
  if (!node) {
    return null;
  }
  try {
    var value = JSON.parse(node.textContent || '{}');
    return value && typeof value === 'object' ? value : {};
  } catch (err) {
    return {};
  }
}

function showError(container, message) {
  var note = h('p', 'siproc-viewer-error', message);
  note.setAttribute('role', 'alert');
  container.appendChild(note);
}

function ids(value) {
  return Array.isArray(value) ? value.filter(function (id) { return typeof id === 'string' && id; }) : [];
}

function legend(config, counted) {
  var list = h('ul', 'siproc-legend list-inline small mb-0');
  list.setAttribute('aria-label', 'Leyenda del diagrama');
  MARKERS.forEach(function (marker) {
    if (Object.prototype.hasOwnProperty.call(config, marker[0])) {
      var item = h('li', 'list-inline-item');
      item.appendChild(h('span', 'siproc-swatch siproc-swatch-' + marker[1].replace('siproc-', '')));
      item.appendChild(document.createTextNode(marker[2]));
      list.appendChild(item);
    }
  });
  if (counted) {
    var item = h('li', 'list-inline-item');
    item.appendChild(h('span', 'siproc-count siproc-count-sample', 'n'));
    item.appendChild(document.createTextNode('Casos en este paso'));
    list.appendChild(item);
  }
  return list.children.length ? list : null;
}

/** Adds the markers and count badges; never throws for an id the diagram does not have. */
function decorate(viewer, config) {
  var registry = viewer.get('elementRegistry');
  var canvas = viewer.get('canvas');
  var overlays = viewer.get('overlays');
  var marked = 0, counted = 0;
  MARKERS.forEach(function (marker) {
    ids(config[marker[0]]).forEach(function (id) {
      try {
        if (registry.get(id)) {
          canvas.addMarker(id, marker[1]);
          marked += 1;
        }
      } catch (err) {
        // an element that cannot carry a marker: ignored
      }
    });
  });
  var counts = config.counts && typeof config.counts === 'object' ? config.counts : {};
  Object.keys(counts).forEach(function (id) {
    var count = Number(counts[id]);
    if (!registry.get(id) || !isFinite(count) || count <= 0) {
      return;
    }
    try {
      var badge = h('span', 'siproc-count', count);
      badge.setAttribute('title', count + (count === 1 ? ' caso en este paso' : ' casos en este paso'));
      overlays.add(id, 'siproc-count', { position: { top: -10, right: 14 }, html: badge });
      counted += 1;
    } catch (err) {
      // a connection or label without room for a badge: ignored
    }
  });
  return { marked: marked, counted: counted };
}

/** The whole diagram, centred, with a small margin (fit-viewport alone lets it touch the border). */
function fit(canvas) {
  canvas.zoom('fit-viewport', 'auto');
  var box = canvas.viewbox(), inner = box.inner, outer = box.outer, margin = 16;
  if (!inner || !inner.width || !inner.height || !outer.width || !outer.height) {
    return;
  }
  var scale = Math.min((outer.width - 2 * margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1);
  if (!(scale > 0)) {
    return;
  }
  canvas.viewbox({
    x: inner.x - (outer.width - inner.width * scale) / 2 / scale,
    y: inner.y - (outer.height - inner.height * scale) / 2 / scale,
    width: outer.width / scale,
    height: outer.height / scale
  });
}

async function start() {
  var container = document.getElementById('case-diagram') || document.querySelector('.diagram-viewer');
  var config = readConfig();
  if (!container || config === null) {
    return null;
  }
  if (typeof window.BpmnJS !== 'function') {
    showError(container, 'No se pudo cargar el visor de diagramas. Recargue la página.');
    return null;
  }
  if (!config.xml_url) {
    showError(container, 'No hay diagrama que mostrar.');
    return null;
  }
  var xml;
  try {
    xml = await fetchText(config.xml_url);
  } catch (err) {
    showError(container, 'No se pudo obtener el diagrama del servidor (' + err.message + ').');
    return null;
  }
  var viewer = new window.BpmnJS({ container: container });
  try {
    await viewer.importXML(xml);
  } catch (err) {
    showError(container, 'No se pudo mostrar el diagrama.');
    return null;
  }
  fit(viewer.get('canvas'));
  var result = decorate(viewer, config);
  var key = legend(config, result.counted > 0);
  if (key) {
    container.insertAdjacentElement('afterend', key);
  }
  container.dataset.ready = 'true';
  return viewer;
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
