/* SIPROC editor: the problems the server found (Validate / Publish): the list under the canvas, a marker and a
 * note on each element concerned, a click that shows the element. */
import { MSG } from './messages.js';
import { h } from './dom.js';

function elementName(element) {
  var bo = element.businessObject;
  return (bo && (bo.name || bo.text)) || element.id;
}

export var problemMethods = {
  clearProblems: function () {
    var canvas = this.canvas, registry = this.registry;
    this.problemIds.forEach(function (id) {
      if (registry.get(id)) {
        canvas.removeMarker(id, 'siproc-problem');
      }
    });
    this.problemIds = [];
    this.overlays.remove({ type: 'siproc-problem' });
  },

  showProblems: function (problems) {
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
  },

  reveal: function (id) {
    var element = this.registry.get(id);
    if (!element) {
      return;
    }
    if (this.canvas.zoom() < 0.6) {
      this.canvas.zoom(0.9);
    }
    this.canvas.scrollToElement(element, 120);
    this.selection.select(element);
  }
};
