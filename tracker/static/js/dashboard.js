/* Dashboard charts (Chart.js, vendored under static/vendor/chartjs).
 *
 * The page carries its data in <script type="application/json" id="<canvas id>-data"> blocks
 * (no inline script: the CSP allows only scripts from this site). Every chart has a table of
 * the same figures next to it, so the page reads without JavaScript and prints completely.
 * Lines differ by dash pattern and point shape as well as colour, so they stay apart when
 * printed in black and white; before printing, charts are redrawn at the paper's width.
 */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return; // the tables carry the figures
  }

  var COLOURS = ["#a61b1b", "#0b5cad", "#1e7b34", "#8a5a00", "#5b3f9e", "#0f7c80", "#b5446e",
    "#4d5b6a", "#c0620b", "#2f6b2f", "#7a1f5c", "#1d4e89", "#6b6b00", "#8c2d19"];
  var DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4], [4, 4, 1, 4]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "rectRounded"];
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';
  var charts = [];

  function readData(canvas) {
    var block = document.getElementById(canvas.id + "-data");
    return block ? JSON.parse(block.textContent) : null;
  }

  function percentAxis() {
    return {
      min: 0,
      max: 100,
      ticks: { callback: function (value) { return value + "%"; } },
      title: { display: true, text: "按时报送率" }
    };
  }

  function trendConfig(data) {
    return {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, i) {
          var colour = series.overall ? "#1f2328" : COLOURS[i % COLOURS.length];
          return {
            label: series.label,
            data: series.values,
            borderColor: colour,
            backgroundColor: colour,
            borderWidth: series.overall ? 3 : 1.5,
            borderDash: series.overall ? [] : DASHES[i % DASHES.length],
            pointStyle: POINTS[i % POINTS.length],
            pointRadius: 3,
            spanGaps: true
          };
        })
      },
      options: baseOptions({ y: percentAxis() })
    };
  }

  // An indicator's trajectory: the planned line (dashed, from baseline to target), the
  // combined reported values (bold) and, where departments report separately, each one's.
  // The x axis is linear in days (data.x: days since 1970-01-01), ticked at each 1 January:
  // the baseline and target sit on their own dates and each quarter at its end, so the
  // planned line stays straight and the years keep their length (no date adapter needed).
  function trajectoryConfig(data) {
    var places = data.places || 0;
    var format = function (value) {
      return value.toLocaleString("zh-CN", { maximumFractionDigits: Math.max(places, 4) });
    };
    var tickLabels = {};
    data.ticks.forEach(function (tick) { tickLabels[tick.value] = tick.label; });
    return {
      type: "line",
      data: {
        datasets: data.series.map(function (series, i) {
          var colour = series.planned ? "#4d5b6a" : series.overall ? "#1f2328"
            : COLOURS[i % COLOURS.length];
          return {
            label: series.label,
            data: series.values.map(function (value, k) { return { x: data.x[k], y: value }; }),
            borderColor: colour,
            backgroundColor: colour,
            borderWidth: series.overall ? 3 : 1.5,
            borderDash: series.planned ? [6, 4] : series.overall ? [] : DASHES[(i + 1) % DASHES.length],
            pointStyle: POINTS[i % POINTS.length],
            pointRadius: 3,
            spanGaps: true
          };
        })
      },
      options: baseOptions({
        x: {
          type: "linear",
          min: data.x[0],
          max: data.x[data.x.length - 1],
          afterBuildTicks: function (axis) {
            axis.ticks = data.ticks.map(function (tick) { return { value: tick.value }; });
          },
          ticks: {
            autoSkip: false,
            callback: function (value) { return tickLabels[value] || ""; }
          }
        },
        y: {
          beginAtZero: true,
          title: { display: true, text: "单位：" + data.unit },
          ticks: { callback: function (value) { return format(value); } }
        }
      }, {
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? data.labels[items[0].dataIndex] : "";
              },
              label: function (ctx) {
                var value = ctx.parsed.y;
                return ctx.dataset.label + "：" + (value === null ? "—" : format(value) + data.unit);
              }
            }
          }
        }
      })
    };
  }

  function scorecardConfig(data) {
    return {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "按时报送率（%）",
          data: data.values,
          backgroundColor: "#0b5cad",
          borderColor: "#1f2328",
          borderWidth: 1,
          maxBarThickness: 28
        }]
      },
      options: baseOptions({ x: percentAxis() }, { indexAxis: "y" })
    };
  }

  function baseOptions(scales, extra) {
    var options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: scales,
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true } },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var value = ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y;
              return ctx.dataset.label + "：" + (value === null ? "—" : value + "%");
            }
          }
        }
      }
    };
    Object.keys(extra || {}).forEach(function (key) { options[key] = extra[key]; });
    return options;
  }

  function draw(canvas) {
    var data = readData(canvas);
    if (!data) {
      return;
    }
    var config = data.kind === "trend" ? trendConfig(data)
      : data.kind === "trajectory" ? trajectoryConfig(data) : scorecardConfig(data);
    var chart = new window.Chart(canvas, config);
    canvas.setAttribute("data-chart-ready", "true");
    charts.push(chart);
  }

  window.Chart.defaults.font.family = FONT;
  window.Chart.defaults.color = "#1f2328";
  document.querySelectorAll("figure.chart canvas").forEach(draw);

  // Redraw at the printed size, and back afterwards.
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (chart) { chart.resize(680, 360); });
  });
  window.addEventListener("afterprint", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
