/* SIPROC editor: loading the diagram (GET xml_url, importXML), refusing to save what bpmn-js could not read,
 * and the first zoom. */
import { MSG } from './messages.js';
import { fetchText } from './client.js';

/** The elements bpmn-js dropped while importing ("unparsable content"), as "<tag> (línea n)". */
function droppedContent(warnings) {
  var dropped = [];
  warnings.forEach(function (warning) {
    var match = /unparsable content <([^>]+)>/.exec(warning.message || '');
    var line = /line: (\d+)/.exec(warning.message || '');
    if (match) {
      dropped.push('<' + match[1] + '>' + (line ? ' (' + MSG.droppedLine + ' ' + line[1] + ')' : ''));
    }
  });
  return dropped;
}

export var loadingMethods = {
  load: async function () {
    this.status('info', MSG.loading);
    this.setBusy(true);
    var xml;
    try {
      xml = await fetchText(this.config.xml_url);
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
    var dropped = droppedContent(warnings);
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
  },

  /** Fits the whole diagram in the canvas, to the right of the palette (which would cover its left part). */
  fitBesidePalette: function () {
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
  }
};
