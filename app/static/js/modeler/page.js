/* SIPROC editor: the page around the canvas: Save / Validate / Publish buttons, Ctrl+S, the download link and
 * the warning when leaving the page with unsaved changes. */
import { MSG } from './messages.js';

export var pageMethods = {
  bindPage: function () {
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
  }
};
