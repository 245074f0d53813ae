// The alert queue: "select all" for the bulk actions, and a "N new" bar. New alerts that match
// the page's filters are counted, not inserted, so the table never reshuffles under the
// reader's cursor; following the bar reloads the first page with the same filters.
(function () {
  "use strict";
  var table = document.getElementById("alert-queue");
  if (!table) return;

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      table.querySelectorAll('tbody input[name="alerts"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  if (table.dataset.live !== "1" || !window.WebSocket) return;
  // An alert raised just now is never older than a week: nothing new can match these.
  if ((table.dataset.age || "").indexOf("over_") === 0) return;
  var bar = document.getElementById("new-alerts");
  var counter = document.getElementById("new-alerts-count");
  function words(value) { return (value || "").split(" ").filter(Boolean); }
  var wanted = {
    partner: table.dataset.partner || "",
    rule: table.dataset.rule || "",
    subject: table.dataset.subject || "",
    severity: words(table.dataset.severity),
    status: words(table.dataset.status)
  };
  var seen = {};
  var fresh = 0;
  var lastId = 0;
  var delay = 1000;

  function matches(alert) {
    if (wanted.partner && alert.subject.partner !== wanted.partner) return false;
    if (wanted.rule && alert.rule !== wanted.rule) return false;
    if (wanted.subject && alert.subject.account_id !== wanted.subject) return false;
    if (wanted.severity.length && wanted.severity.indexOf(alert.severity) < 0) return false;
    if (wanted.status.length && wanted.status.indexOf(alert.status) < 0) return false;
    return true;
  }

  function show(message) {
    if (message.type !== "alert.created") return;
    var alert = message.alert;
    if (alert.id > lastId) lastId = alert.id;
    if (seen[alert.id] || !matches(alert)) return;
    seen[alert.id] = true;
    fresh += 1;
    counter.textContent = String(fresh);
    bar.hidden = false;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var resume = lastId ? "?after=" + lastId : "";
    var socket = new WebSocket(scheme + window.location.host + "/ws/alerts/" + resume);
    socket.addEventListener("open", function () {
      delay = 1000;
      table.dataset.connected = "1";
    });
    socket.addEventListener("message", function (event) { show(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      table.dataset.connected = "0";
      if (event.code === 4401 || event.code === 4403) return; // not allowed: do not insist
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
