/* SIPROC: statistics dashboard charts (Chart.js, global Chart from vendor/chartjs/chart.umd.min.js).
 *
 * Page contract:
 *   <script type="application/json" id="dashboard-data">{"charts": [ChartSpec, ...]}</script>
 *   ChartSpec = {"id", "type": "bar" | "line" | "doughnut" | "hbar" | "stacked", "title", "labels": [...],
 *                "datasets": [{"label", "data": [numbers]}], "unit" (optional),
 *                "link": {"param", "values": [...]} (optional: clicking item i opens ?param=values[i])}
 *   <div class="chart-box"><canvas data-chart="ID" role="img" aria-label="..."></canvas></div> per spec;
 *   the server also renders each chart's numbers as a table (the fallback when Chart.js is not available).
 * Without #dashboard-data nothing happens; without window.Chart, <body> gets class "charts-unavailable".
 * window.siprocCharts maps chart id -> Chart instance. No inline code, no eval (CSP).
 */
(function () {
  'use strict';

  // Okabe-Ito: distinguishable with the common forms of colour blindness.
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];
  var TYPES = { bar: 'bar', line: 'line', doughnut: 'doughnut', hbar: 'bar', stacked: 'bar' };
  var numberFormat = new Intl.NumberFormat('es-HN');

  var charts = {};
  window.siprocCharts = charts;

  function colour(i) {
    return PALETTE[i % PALETTE.length];
  }

  function formatNumber(value) {
    return typeof value === 'number' && isFinite(value) ? numberFormat.format(value) : String(value);
  }

  function readSpecs() {
    var node = document.getElementById('dashboard-data');
    if (!node) {
      return null;
    }
    try {
      var value = JSON.parse(node.textContent || '{}');
      return value && Array.isArray(value.charts) ? value.charts : [];
    } catch (err) {
      if (window.console) {
        window.console.warn('dashboard-data: JSON no válido', err);
      }
      return [];
    }
  }

  function toNumber(value) {
    if (value === null || value === undefined || value === '') {
      return null;
    }
    var n = Number(value);
    return isFinite(n) ? n : null;
  }

  function datasetsFor(spec) {
    var kind = spec.type;
    var labels = Array.isArray(spec.labels) ? spec.labels : [];
    return (Array.isArray(spec.datasets) ? spec.datasets : []).map(function (ds, i) {
      var data = (Array.isArray(ds && ds.data) ? ds.data : []).map(toNumber);
      var out = { label: ds && ds.label ? String(ds.label) : '', data: data };
      if (kind === 'doughnut') {
        out.backgroundColor = labels.map(function (_, j) { return colour(j); });
        out.borderColor = '#ffffff';
        out.borderWidth = 2;
      } else if (kind === 'line') {
        out.borderColor = colour(i);
        out.backgroundColor = colour(i);
        out.borderWidth = 2;
        out.pointRadius = 3;
        out.tension = 0.2;
        out.fill = false;
      } else {
        out.backgroundColor = colour(i);
        out.borderWidth = 0;
      }
      return out;
    });
  }

  function valueAxis(spec, stacked) {
    var unit = spec.unit ? String(spec.unit) : '';
    return {
      beginAtZero: true,
      stacked: stacked,
      grid: { color: '#e9ecef' },
      ticks: { precision: 0, callback: function (value) { return formatNumber(value); } },
      title: { display: Boolean(unit), text: unit }
    };
  }

  function categoryAxis(stacked) {
    return { stacked: stacked, grid: { display: false } };
  }

  function onClickFor(link) {
    if (!link || !link.param || !Array.isArray(link.values)) {
      return undefined;
    }
    return function (event, elements) {
      if (!elements || !elements.length) {
        return;
      }
      var value = link.values[elements[0].index];
      if (value === undefined || value === null || value === '') {
        return;
      }
      var url = new URL(window.location.href);
      url.searchParams.set(String(link.param), String(value));
      window.location.assign(url.toString());
    };
  }

  function optionsFor(spec, datasetCount) {
    var kind = spec.type;
    var unit = spec.unit ? ' ' + String(spec.unit) : '';
    var options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: 'es-HN',
      plugins: {
        title: { display: Boolean(spec.title), text: spec.title ? String(spec.title) : '',
                 font: { size: 14, weight: '600' } },
        legend: { display: kind === 'doughnut' || datasetCount > 1, position: 'bottom' },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var name = kind === 'doughnut' ? ctx.label : ctx.dataset.label;
              return (name ? name + ': ' : '') + formatNumber(ctx.raw) + unit;
            }
          }
        }
      }
    };
    if (kind === 'hbar') {
      options.indexAxis = 'y';
      options.scales = { x: valueAxis(spec, false), y: categoryAxis(false) };
    } else if (kind === 'stacked') {
      options.scales = { x: categoryAxis(true), y: valueAxis(spec, true) };
      options.interaction = { mode: 'index', intersect: false };
    } else if (kind !== 'doughnut') {
      options.scales = { x: categoryAxis(false), y: valueAxis(spec, false) };
    }
    var onClick = onClickFor(spec.link);
    if (onClick) {
      options.onClick = onClick;
      options.onHover = function (event, elements, chart) {
        chart.canvas.style.cursor = elements && elements.length ? 'pointer' : 'default';
      };
    }
    return options;
  }

  function draw(Chart, canvas, spec) {
    var previous = Chart.getChart ? Chart.getChart(canvas) : null;
    if (previous) {
      previous.destroy();
    }
    if (!canvas.getAttribute('aria-label') && spec.title) {
      canvas.setAttribute('aria-label', String(spec.title));
    }
    var datasets = datasetsFor(spec);
    return new Chart(canvas, {
      type: TYPES[spec.type],
      data: { labels: (Array.isArray(spec.labels) ? spec.labels : []).map(String), datasets: datasets },
      options: optionsFor(spec, datasets.length)
    });
  }

  function resizeAll() {
    Object.keys(charts).forEach(function (id) {
      charts[id].resize();
    });
  }

  function init() {
    var specs = readSpecs();
    if (specs === null) {
      return;
    }
    var Chart = window.Chart;
    if (typeof Chart !== 'function') {
      document.body.classList.add('charts-unavailable');
      return;
    }
    Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily || Chart.defaults.font.family;
    Chart.defaults.color = '#212529';

    var byId = {};
    specs.forEach(function (spec) {
      if (spec && spec.id && Object.prototype.hasOwnProperty.call(TYPES, spec.type)) {
        byId[String(spec.id)] = spec;
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll('canvas[data-chart]'), function (canvas) {
      var id = canvas.getAttribute('data-chart');
      if (!Object.prototype.hasOwnProperty.call(byId, id)) {
        return;
      }
      try {
        charts[id] = draw(Chart, canvas, byId[id]);
      } catch (err) {
        if (window.console) {
          window.console.error('No se pudo dibujar el gráfico «' + id + '»', err);
        }
      }
    });

    window.addEventListener('beforeprint', resizeAll);
    window.addEventListener('afterprint', resizeAll);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
