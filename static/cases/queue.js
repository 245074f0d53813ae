// The case queue: keyboard shortcuts (j/k move, o or Enter open, c claim next) and rows kept
// current over WS /ws/alerts/ ("case.updated" messages): a changed row is re-rendered by the
// server (/cases/<id>/row/) and swapped in; a new case appears at the top of the first page.
(function () {
  "use strict";
  var table = document.getElementById("case-queue");
  if (!table) return;
  var body = table.querySelector("tbody");
  var counter = document.getElementById("case-count");
  var current = -1;

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-case-id]")); }

  function select(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (tr) { tr.classList.remove("current"); tr.removeAttribute("aria-selected"); });
    var row = all[index];
    row.classList.add("current");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
    var link = row.querySelector("a");
    if (link) link.focus({ preventScroll: true });
    current = index;
  }

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var all = rows();
    if (event.key === "j") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); }
    else if (event.key === "o" || (event.key === "Enter" && event.target === document.body)) {
      var row = all[current < 0 ? 0 : current];
      if (row) { window.location.href = row.dataset.href; event.preventDefault(); }
    } else if (event.key === "c") {
      var claim = document.getElementById("claim-next");
      if (claim) { claim.submit(); event.preventDefault(); }
    }
  });

  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      body.querySelectorAll('input[name="cases"]').forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  function refresh(caseData) {
    var existing = body.querySelector('tr[data-case-id="' + caseData.id + '"]');
    if (existing && Number(existing.dataset.version) >= caseData.version) return;
    var insert = !existing && table.dataset.liveInsert === "1" &&
      (caseData.status === "open" || caseData.status === "investigating" || caseData.status === "pending_approval");
    if (!existing && !insert) return;
    fetch("/cases/" + caseData.id + "/row/", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("tr");
        if (!fresh) return;
        fresh.classList.add("fresh");
        var again = body.querySelector('tr[data-case-id="' + caseData.id + '"]');
        if (again) {
          if (again.classList.contains("current")) fresh.classList.add("current");
          body.replaceChild(fresh, again);
        } else {
          var empty = body.querySelector("tr.empty");
          if (empty) empty.remove();
          body.insertBefore(fresh, body.firstChild);
          if (counter) counter.textContent = String(parseInt(counter.textContent, 10) + 1);
          if (current >= 0) current += 1;
        }
      });
  }

  var delay = 1000;
  function connect() {
    if (!window.WebSocket) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/alerts/");
    socket.onopen = function () { delay = 1000; table.dataset.live = "1"; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "case.updated" && message.case) refresh(message.case);
    };
    socket.onclose = function (event) {
      table.dataset.live = "0";
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
