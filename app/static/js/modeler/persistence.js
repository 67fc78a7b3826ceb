/* SIPROC editor: Save, Validate and Publish (POST the XML to the server), and the local copy offered when the
 * server cannot take it. */
import { MSG, HTTP_MSG, httpFallback } from './messages.js';
import { postJson } from './client.js';
import { h } from './dom.js';

export var persistenceMethods = {
  send: async function (kind) {
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
  },

  /** The server's JSON answer, or { ok: false, message, network | httpError } in Spanish. */
  post: async function (url, body) {
    var answer = await postJson(url, body, this.config.csrf_token);
    if (answer.error === 'network') {
      return { ok: false, message: MSG.network, network: true };
    }
    if (answer.error === 'http') {
      return { ok: false, message: HTTP_MSG[answer.status] || httpFallback(answer.status), httpError: true };
    }
    return answer.data;
  },

  /** A link that downloads the current XML from the browser (when the server cannot take it). */
  localCopyLink: function (xml) {
    var blob = new Blob([ xml ], { type: 'application/xml' });
    var name = (this.config.file_name || 'diagrama').replace(/\.bpmn$/, '') + '-copia-local.bpmn';
    return h('a', { href: URL.createObjectURL(blob), download: name, class: 'alert-link', text: MSG.localCopy });
  }
};
