/* SIPROC editor: bpmn-js draws the align/distribute icons as SVG markup with style="..." attributes, which a
 * Content-Security-Policy without 'unsafe-inline' styles refuses. This bpmn-js module runs after bpmn-js' own
 * context pad and popup menu providers and turns those declarations into SVG presentation attributes
 * (fill="none", stroke="currentColor", ...), which the policy allows: same icons, strict CSP. */

function styleToAttributes(markup) {
  return String(markup).replace(/\sstyle="([^"]*)"/g, function (match, css) {
    return css.split(';').map(function (declaration) {
      var colon = declaration.indexOf(':');
      var name = declaration.slice(0, colon).trim(), value = declaration.slice(colon + 1).trim();
      return colon > 0 && /^[a-z-]+$/.test(name) && value ? ' ' + name + '="' + value.replace(/"/g, '') + '"' : '';
    }).join('');
  });
}

function cspSafeEntries(entries) {
  Object.keys(entries || {}).forEach(function (id) {
    var entry = entries[id];
    [ 'html', 'imageHtml' ].forEach(function (key) {
      if (entry && typeof entry[key] === 'string' && entry[key].indexOf('style=') !== -1) {
        entry[key] = styleToAttributes(entry[key]);
      }
    });
  });
  return entries;
}

function CspSafeIcons(contextPad, popupMenu) {
  var updater = function () { return cspSafeEntries; };
  var provider = {
    getContextPadEntries: updater,
    getMultiElementContextPadEntries: updater,
    getPopupMenuEntries: updater,
    getPopupMenuHeaderEntries: updater
  };
  contextPad.registerProvider(1, provider);  // priority 1: after the providers of bpmn-js (500-1000)
  [ 'align-elements', 'bpmn-replace' ].forEach(function (menu) {
    popupMenu.registerProvider(menu, 1, provider);
  });
}
CspSafeIcons.$inject = [ 'contextPad', 'popupMenu' ];

/** The bpmn-js additional module. */
export var cspSafeIconsModule = { __init__: [ 'siprocCspSafeIcons' ], siprocCspSafeIcons: [ 'type', CspSafeIcons ] };
