// The operational monitor dashboard: draws each metric with its threshold and anomalous
// minutes (Chart.js, vendored), refreshes every minute, and at once when an operational
// alert changes (a "monitor.alert" frame on WS /ws/alerts/; other frames are ignored).
(function () {
  "use strict";
  // Choosing a partner shows it at once (an inline onchange= would be refused by the CSP).
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var root = document.getElementById("monitor");
  var initial = document.getElementById("monitor-charts");
  if (!root || !initial || !window.Chart) return;
  var charts = {};

  function label(iso, bucket) {
    var d = new Date(iso);
    var hm = d.toISOString().slice(11, 16);
    return bucket > 1440 ? d.toISOString().slice(5, 10) + " " + hm : hm;
  }

  function draw(data) {
    var labels = data.labels.map(function (iso) { return label(iso, data.bucket_minutes * data.labels.length); });
    Object.keys(data.metrics).forEach(function (metric) {
      var series = data.metrics[metric];
      var canvas = document.getElementById("chart-" + metric);
      if (!canvas) return;
      var colors = series.anomalous.map(function (a) { return a ? "#b91c1c" : "#2563eb"; });
      var radius = series.anomalous.map(function (a) { return a ? 3 : 0; });
      var datasets = [
        { label: metric, data: series.values, borderColor: "#2563eb", borderWidth: 1.5,
          pointBackgroundColor: colors, pointBorderColor: colors, pointRadius: radius, spanGaps: false },
        { label: "threshold", data: series.threshold, borderColor: "#6b7280", borderDash: [6, 4],
          borderWidth: 1, pointRadius: 0 }
      ];
      if (charts[metric]) {
        charts[metric].data.labels = labels;
        charts[metric].data.datasets = datasets;
        charts[metric].update("none");
      } else {
        charts[metric] = new window.Chart(canvas, {
          type: "line",
          data: { labels: labels, datasets: datasets },
          options: { animation: false, responsive: true, plugins: { legend: { display: false } },
                     scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } } }
        });
      }
    });
  }

  function text(row, field, value) {
    var cell = row.querySelector('[data-field="' + field + '"]');
    if (cell) cell.textContent = value === null || value === undefined ? "–" : String(value);
    return cell;
  }

  function badge(element, severity) {
    element.textContent = severity;
    element.className = "opsev opsev-" + severity;
  }

  function update(data) {
    draw(data.charts);
    badge(document.getElementById("overall-severity"), data.severity);
    document.getElementById("current-minute").textContent = data.current_minute.slice(0, 16).replace("T", " ") + " UTC";
    Object.keys(data.persistence_analysis).forEach(function (metric) {
      var row = document.querySelector('#persistence tr[data-metric="' + metric + '"]');
      if (!row) return;
      var state = data.persistence_analysis[metric];
      var key = metric === "latency_p95_ms" ? "latency_p95_ms" : metric;
      text(row, "value", data.metrics[key]);
      text(row, "threshold", data.thresholds[metric].value);
      text(row, "consecutive", state.consecutive_minutes);
      text(row, "since", state.since || "");
      text(row, "reason", state.reason || "");
      badge(row.querySelector('[data-field="severity"]'), state.severity);
    });
    var list = document.getElementById("open-alerts");
    list.textContent = "";
    if (!data.open_alerts.length) {
      var none = document.createElement("li");
      none.className = "empty muted";
      none.textContent = "None.";
      list.appendChild(none);
    }
    data.open_alerts.forEach(function (alert) {
      var li = document.createElement("li");
      var span = document.createElement("span");
      badge(span, alert.severity);
      li.appendChild(span);
      li.appendChild(document.createTextNode(" " + alert.metric + ": " + alert.persistence_minutes +
        " minutes above threshold since " + alert.started_minute.slice(0, 16).replace("T", " ") + " UTC"));
      list.appendChild(li);
    });
  }

  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && data.charts) update(data); })
      .catch(function () {});
  }

  draw(JSON.parse(initial.textContent));
  setInterval(refresh, 60000);

  var delay = 1000;
  function connect() {
    if (!window.WebSocket) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/alerts/");
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "monitor.alert") refresh();
    };
    socket.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
