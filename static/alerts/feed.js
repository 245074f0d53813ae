// The home page's live alert feed: new alerts are added at the top, changed ones updated in
// place, over WS /ws/alerts/. Reconnects pass the last alert id seen, so nothing is missed.
(function () {
  "use strict";
  var table = document.getElementById("alert-feed");
  if (!table || !window.WebSocket) return;
  var body = table.querySelector("tbody");
  var counter = document.getElementById("alert-count");
  var lastId = parseInt(table.dataset.lastId || "0", 10);
  var delay = 1000;

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function row(alert) {
    var tr = document.createElement("tr");
    tr.dataset.alertId = alert.id;
    var badge = document.createElement("span");
    badge.className = "sev sev-" + alert.severity;
    badge.textContent = alert.severity;
    var first = document.createElement("td");
    first.appendChild(badge);
    tr.appendChild(first);
    var rule = document.createElement("td");
    var link = document.createElement("a");
    link.href = "/alerts/" + alert.id + "/";
    link.textContent = alert.rule;
    rule.appendChild(link);
    tr.appendChild(rule);
    tr.appendChild(cell(alert.subject.account_id));
    tr.appendChild(cell(alert.subject.partner));
    tr.appendChild(cell(String(alert.occurrences), "num"));
    tr.appendChild(cell(String(alert.priority), "num"));
    tr.appendChild(cell(alert.status));
    tr.appendChild(cell("just now"));
    return tr;
  }

  function show(message) {
    if (message.type !== "alert.created" && message.type !== "alert.updated") return;
    var alert = message.alert;
    var existing = body.querySelector('tr[data-alert-id="' + alert.id + '"]');
    var fresh = row(alert);
    if (existing) {
      fresh.lastChild.textContent = existing.lastChild.textContent;
      body.replaceChild(fresh, existing);
    } else {
      var empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      fresh.classList.add("fresh");
      body.insertBefore(fresh, body.firstChild);
      if (message.type === "alert.created" && alert.status === "new") {
        counter.textContent = String(parseInt(counter.textContent, 10) + 1);
      }
    }
    if (alert.id > lastId) lastId = alert.id;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/alerts/?after=" + lastId);
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) { show(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) return; // not allowed: do not insist
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
