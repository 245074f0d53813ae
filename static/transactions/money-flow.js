// The money-flow view (templates/transactions/_money_flow.html): reads the starting flow from
// <script type="application/json" id="money-flow"> (transactions.flows.money_flow_json) and draws
// it as SVG, left to right by time: each account is a node in a column, each transaction an
// arrow with its amount and date. Selecting a node (or its ◀ / ▶ button) asks the page's hop
// endpoint for the next hop backward (money into it, earlier) or forward (money out of it,
// later) and adds it; selecting it again folds that hop away. Nodes are identified by account,
// so money coming back to an account already drawn (a ring) points at that node.
// A ring an alert was raised on (edges with "ring": true, nodes with a "role") is drawn as the
// pattern at the start: each member in the column of its longest path of ring transfers from
// an account that only pays in (senders left, the hub and intermediaries between, receivers
// right), its transfers bold, its members marked with their role.
// No inline styles (the CSP refuses them): positions are SVG attributes, looks are CSS classes.
(function () {
  "use strict";

  var source = document.getElementById("money-flow");
  var view = document.getElementById("money-flow-view");
  var canvas = document.getElementById("money-flow-canvas");
  if (!source || !view || !canvas) return;
  var start;
  try {
    start = JSON.parse(source.textContent);
  } catch (error) {
    return;
  }
  if (!start || !start.edges || !start.edges.length) return;

  var SVG = "http://www.w3.org/2000/svg";
  var COLUMN = 320, ROW = 64, WIDTH = 176, HEIGHT = 40, PAD = 28, HANDLE = 9;
  var hopUrl = view.getAttribute("data-hop-url");
  var status = document.getElementById("money-flow-status");
  var tableBody = document.querySelector("#money-flow-table tbody");
  var nodes = {}; // id → {id, label, kind, account, column, order, root, addedBy}
  var edges = {}; // transaction id → edge data + {addedBy: "<node id>|<direction>" or null}
  var opened = {}; // "<node id>|<direction>" → {more, column, parent: the hop that brought the node}
  var loading = {};
  var order = 0;

  function say(text) {
    if (status) status.textContent = text;
  }

  function addNode(node, column, addedBy) {
    if (nodes[node.id]) return false;
    nodes[node.id] = {
      id: node.id, label: node.label, kind: node.kind, account: node.account, role: node.role || "",
      column: column, order: order++, root: !addedBy, addedBy: addedBy || null
    };
    return true;
  }

  var startNodes = {};
  start.nodes.forEach(function (node) { startNodes[node.id] = node; });
  var ringEdges = start.edges.filter(function (edge) { return edge.ring; });
  var ringColumns = columnsOfRing(ringEdges);
  Object.keys(ringColumns).sort(function (a, b) {
    return ringColumns[a] - ringColumns[b] || (a < b ? -1 : a > b ? 1 : 0);
  }).forEach(function (id) { addNode(startNodes[id], ringColumns[id], null); });
  ringEdges.forEach(function (edge) { edges[edge.id] = Object.assign({ addedBy: null }, edge); });
  // The alerted transactions grouped by beneficiary (the earliest paid first), oldest first
  // within: payers of one account sit together, one column left of what they paid.
  var firstPaid = {};
  var others = start.edges.filter(function (edge) { return !edge.ring; });
  others.slice().sort(byTime).forEach(function (edge) {
    if (!(edge.target in firstPaid)) firstPaid[edge.target] = Object.keys(firstPaid).length;
  });
  others.slice().sort(function (a, b) {
    return firstPaid[a.target] - firstPaid[b.target] || byTime(a, b);
  }).forEach(function (edge) {
    var payer = nodes[edge.source], payee = nodes[edge.target];
    if (!payer) addNode(startNodes[edge.source], payee ? payee.column - 1 : 0, null);
    if (!payee) addNode(startNodes[edge.target], nodes[edge.source].column + 1, null);
    edges[edge.id] = Object.assign({ addedBy: null }, edge);
  });

  // Each ring member's column: the longest path of ring transfers reaching it (relaxed at most
  // once per member, so money going round a cycle stops growing the path).
  function columnsOfRing(list) {
    var column = {};
    list.forEach(function (edge) { column[edge.source] = 0; column[edge.target] = 0; });
    var members = Object.keys(column).length;
    for (var round = 0; round < members; round++) {
      var moved = false;
      list.forEach(function (edge) {
        var reach = column[edge.source] + 1;
        if (reach < members && reach > column[edge.target]) {
          column[edge.target] = reach;
          moved = true;
        }
      });
      if (!moved) break;
    }
    return column;
  }

  function byTime(a, b) {
    return a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0;
  }

  function edgesOf(nodeId) {
    return Object.keys(edges).map(function (id) { return edges[id]; }).filter(function (edge) {
      return edge.source === nodeId || edge.target === nodeId;
    });
  }

  // Money that reached an account at t can only leave it after t, and money that left it at t
  // came in before t: forward starts at its earliest incoming transaction, backward at its
  // latest outgoing one (else at whatever transaction it has).
  function anchor(nodeId, direction) {
    var touching = edgesOf(nodeId);
    var side = direction === "forward" ? "target" : "source";
    var preferred = touching.filter(function (edge) { return edge[side] === nodeId; });
    var times = (preferred.length ? preferred : touching).map(function (edge) { return edge.occurred_at; });
    times.sort();
    return direction === "forward" ? times[0] : times[times.length - 1];
  }

  function primaryDirection(nodeId) {
    var incoming = edgesOf(nodeId).some(function (edge) { return edge.target === nodeId; });
    return incoming ? "forward" : "backward";
  }

  function describeTime(iso) {
    var edge = Object.keys(edges).map(function (id) { return edges[id]; })
      .filter(function (e) { return e.occurred_at === iso; })[0];
    return edge ? edge.date : iso;
  }

  function toggle(nodeId, direction) {
    var key = nodeId + "|" + direction;
    if (opened[key]) {
      fold(key);
      say("Folded the hop " + (direction === "forward" ? "out of " : "into ") + nodes[nodeId].label + ".");
      render(key);
      return;
    }
    if (loading[key]) return;
    var node = nodes[nodeId];
    var at = anchor(nodeId, direction);
    var query = new URLSearchParams({ account: node.account, direction: direction, at: at });
    loading[key] = true;
    say("Following the money " + (direction === "forward" ? "out of " : "into ") + node.label + "…");
    fetch(hopUrl + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "The hop could not be read.");
          return body;
        });
      })
      .then(function (hop) { add(key, nodeId, direction, at, hop); })
      .catch(function (error) { say(error.message); })
      .then(function () { delete loading[key]; });
  }

  function add(key, nodeId, direction, at, hop) {
    var from = nodes[nodeId];
    var column = from.column + (direction === "forward" ? 1 : -1);
    var byId = {};
    hop.nodes.forEach(function (node) { byId[node.id] = node; });
    var added = 0, rings = [];
    hop.edges.forEach(function (edge) {
      if (edges[edge.id]) return;
      var otherId = direction === "forward" ? edge.target : edge.source;
      if (!addNode(byId[otherId], column, key) && otherId !== nodeId) rings.push(nodes[otherId].label);
      edges[edge.id] = Object.assign({ addedBy: key }, edge);
      added += 1;
    });
    opened[key] = {
      node: nodeId, more: hop.more, ranked_all: hop.ranked_all !== false, column: column,
      parent: from.addedBy
    };
    var words = direction === "forward" ? "out of " + from.label + " after " : "into " + from.label + " before ";
    var text = added
      ? added + " transaction" + (added === 1 ? "" : "s") + " " + words + describeTime(at) + "."
      : "No further transactions " + words + describeTime(at) + ".";
    if (hop.ranked_all === false) {
      text += " Over " + hop.scan_cap.toLocaleString("en") + " in this hop: the largest of the " +
        hop.scan_cap.toLocaleString("en") + " nearest in time are shown, " + hop.more + " more of them not.";
    } else if (hop.more) {
      text += " " + hop.more + " smaller one" + (hop.more === 1 ? "" : "s") + " not shown.";
    }
    if (rings.length) text += " The money comes back to " + unique(rings).join(", ") + ", already in the view: a ring.";
    say(text);
    render(key);
  }

  function unique(list) {
    return list.filter(function (item, index) { return list.indexOf(item) === index; });
  }

  // Folding a hop removes its transactions and the hops opened from the accounts it brought
  // in, then those accounts, unless a transaction still in the view links them.
  function fold(key) {
    var doomed = {};
    doomed[key] = true;
    var grew = true;
    while (grew) {
      grew = false;
      Object.keys(opened).forEach(function (other) {
        if (!doomed[other] && doomed[opened[other].parent]) {
          doomed[other] = true;
          grew = true;
        }
      });
    }
    Object.keys(edges).forEach(function (id) {
      if (doomed[edges[id].addedBy]) delete edges[id];
    });
    Object.keys(nodes).forEach(function (id) {
      if (!doomed[nodes[id].addedBy]) return;
      var still = edgesOf(id)[0];
      if (still) nodes[id].addedBy = still.addedBy;
      else delete nodes[id];
    });
    Object.keys(doomed).forEach(function (gone) { delete opened[gone]; });
  }

  function element(name, attributes, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (attribute) {
      el.setAttribute(attribute, attributes[attribute]);
    });
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function shorten(text, length) {
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  // Columns by hop. The columns nearest the start are placed first; in each, an account sits
  // level with the accounts it is linked to that are already placed (their mean height), in
  // that order, so a hop opens beside the account it came from; "+N more" ends its hop.
  function layout() {
    var columns = {};
    var ids = Object.keys(nodes).sort(function (a, b) { return nodes[a].order - nodes[b].order; });
    ids.forEach(function (id) {
      var node = nodes[id];
      (columns[node.column] = columns[node.column] || []).push(node);
    });
    var boxes = [];
    Object.keys(opened).forEach(function (key) {
      if (!opened[key].more) return;
      var column = opened[key].column;
      var box = {
        id: "more:" + key, more: opened[key].more, all: opened[key].ranked_all, key: key,
        column: column, from: opened[key].node
      };
      (columns[column] = columns[column] || []).push(box);
      boxes.push(box);
    });
    var linked = {};
    Object.keys(edges).forEach(function (id) {
      var edge = edges[id];
      (linked[edge.source] = linked[edge.source] || []).push(edge.target);
      (linked[edge.target] = linked[edge.target] || []).push(edge.source);
    });
    var numbers = Object.keys(columns).map(Number);
    var first = Math.min.apply(null, numbers);
    var distance = function (column) { return column < 0 ? -column : Math.max(0, column - 1); };
    var placed = {}, bottom = 0;
    numbers.sort(function (a, b) { return distance(a) - distance(b) || a - b; }).forEach(function (column) {
      var items = columns[column];
      items.forEach(function (item, index) {
        var heights = item.from !== undefined
          ? [placed[item.from] + ROW / 2]
          : (linked[item.id] || []).filter(function (id) { return id in placed; })
            .map(function (id) { return placed[id]; });
        item.want = heights.length
          ? heights.reduce(function (sum, y) { return sum + y; }, 0) / heights.length
          : Infinity;
        item.index = index;
      });
      items.sort(function (a, b) { return a.want - b.want || a.index - b.index; });
      var next = PAD;
      items.forEach(function (item) {
        item.x = PAD + (column - first) * COLUMN;
        item.y = isFinite(item.want) ? Math.max(next, item.want) : next;
        next = item.y + ROW;
        if (item.from === undefined) placed[item.id] = item.y;
      });
      bottom = Math.max(bottom, next);
    });
    return {
      boxes: boxes,
      width: PAD * 2 + (Math.max.apply(null, numbers) - first) * COLUMN + WIDTH,
      height: bottom + PAD + 70
    };
  }

  function arrow(edge, pairIndex, svg, labels, degree) {
    var from = nodes[edge.source], to = nodes[edge.target];
    var shift = pairIndex * 16;
    var p0, p1, p2, p3;
    if (to.column > from.column) {
      p0 = [from.x + WIDTH + HANDLE, from.y + HEIGHT / 2];
      p3 = [to.x - HANDLE - 3, to.y + HEIGHT / 2];
      var bend = (p3[0] - p0[0]) / 2;
      p1 = [p0[0] + bend, p0[1] + shift];
      p2 = [p3[0] - bend, p3[1] + shift];
    } else {
      // Back to an account further left (a ring closing) or in the same column: a loop below.
      p0 = [from.x + WIDTH / 2, from.y + HEIGHT];
      p3 = [to.x + WIDTH / 2 + 12, to.y + HEIGHT + 4];
      var low = Math.max(from.y, to.y) + HEIGHT + 50 + shift;
      p1 = [p0[0], low];
      p2 = [p3[0], low];
    }
    var classes = "mf-edge" + (edge.alerted ? " mf-edge-alerted" : "") + (edge.ring ? " mf-edge-ring" : "") +
      (to.column <= from.column ? " mf-edge-back" : "") + (edge.status !== "approved" ? " mf-edge-" + edge.status : "");
    var path = element("path", {
      d: "M" + p0.join(",") + " C" + p1.join(",") + " " + p2.join(",") + " " + p3.join(","),
      "class": classes,
      "marker-end": "url(#mf-arrow)",
      "data-transaction-id": edge.id
    });
    path.appendChild(element("title", {}, edge.source_label + " → " + edge.target_label + ": " +
      edge.amount + " " + edge.currency + " on " + edge.date + " (" + edge.type + ", " + edge.external_id + ")"));
    svg.appendChild(path);
    // Where many arrows meet an account, each label sits at its arrow's other, single end.
    var spot = [0, 1].map(function (i) { return (p0[i] + 3 * p1[i] + 3 * p2[i] + p3[i]) / 8; });
    var anchor = "middle";
    if (to.column > from.column && !pairIndex && degree.into[edge.target] > 1) {
      spot = [p0[0] + 6, p0[1]];
      anchor = "start";
    } else if (to.column > from.column && !pairIndex && degree.outOf[edge.source] > 1) {
      spot = [p3[0] - 8, p3[1]];
      anchor = "end";
    }
    var label = element("text", {
      x: spot[0], y: spot[1] - 5, "text-anchor": anchor, "class": "mf-edge-label",
      "data-transaction-id": edge.id
    });
    label.appendChild(element("tspan", { x: spot[0], "class": "mf-amount" }, edge.amount + " " + edge.currency));
    label.appendChild(element("tspan", { x: spot[0], dy: "1.35em", "class": "mf-date" }, edge.date));
    labels.push(label);
  }

  function handle(node, direction, svg) {
    var key = node.id + "|" + direction;
    var open = !!opened[key];
    var forward = direction === "forward";
    var x = forward ? node.x + WIDTH : node.x;
    var at = anchor(node.id, direction);
    var name = (open ? "Fold the money " : "Follow the money ") +
      (forward ? "out of " + node.label + " after " : "into " + node.label + " before ") + describeTime(at);
    var g = element("g", {
      "class": "mf-handle" + (open ? " mf-open" : ""), role: "button", tabindex: "0",
      "aria-label": name, "aria-expanded": open ? "true" : "false", "data-key": key
    });
    g.appendChild(element("title", {}, name));
    g.appendChild(element("circle", { cx: x, cy: node.y + HEIGHT / 2, r: HANDLE }));
    g.appendChild(element("text", { x: x, y: node.y + HEIGHT / 2 + 4, "text-anchor": "middle" },
      open ? "−" : forward ? "▶" : "◀"));
    activate(g, function () { toggle(node.id, direction); });
    svg.appendChild(g);
  }

  function activate(el, action) {
    el.addEventListener("click", action);
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        action();
      }
    });
  }

  function drawNode(node, svg) {
    var g = element("g", {
      "class": "mf-node mf-" + node.kind + (node.root ? " mf-root" : "") + (node.account ? " mf-followable" : "") +
        (node.role ? " mf-ring-member mf-role-" + node.role : ""),
      "data-node-id": node.id
    });
    g.appendChild(element("title", {}, node.label + (node.kind === "customer" ? " (the partner's account)" : " (outside counterparty)") +
      (node.role ? ", " + node.role + " of the ring" : "")));
    g.appendChild(element("rect", { x: node.x, y: node.y, width: WIDTH, height: HEIGHT, rx: 6 }));
    var text = element("text", { x: node.x + 10, y: node.y + 17, "class": "mf-node-label" });
    var parts = node.label.split(" · ");
    text.appendChild(element("tspan", { "class": "mf-node-account" }, shorten(parts[0], 24)));
    text.appendChild(element("tspan", { x: node.x + 10, dy: "1.2em", "class": "mf-node-name" },
      shorten(parts.slice(1).join(" · ") || (node.kind === "customer" ? "customer" : "outside"), 26)));
    g.appendChild(text);
    if (node.role) {
      g.appendChild(element("text", { x: node.x + WIDTH - 8, y: node.y + 13, "text-anchor": "end", "class": "mf-role" }, node.role));
    }
    if (node.account) {
      g.addEventListener("click", function () { toggle(node.id, primaryDirection(node.id)); });
    }
    svg.appendChild(g);
    if (node.account) {
      handle(node, "backward", svg);
      handle(node, "forward", svg);
    }
  }

  function render(focusKey) {
    var size = layout();
    var svg = element("svg", {
      width: size.width, height: size.height, viewBox: "0 0 " + size.width + " " + size.height,
      "class": "money-flow-svg", role: "group", "aria-labelledby": "money-flow-title"
    });
    var defs = element("defs");
    var marker = element("marker", {
      id: "mf-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7",
      orient: "auto-start-reverse"
    });
    marker.appendChild(element("path", { d: "M0,0 L10,5 L0,10 z", "class": "mf-arrow-head" }));
    defs.appendChild(marker);
    svg.appendChild(defs);

    var labels = [], pairs = {}, degree = { into: {}, outOf: {} };
    Object.keys(edges).forEach(function (id) {
      var edge = edges[id];
      degree.into[edge.target] = (degree.into[edge.target] || 0) + 1;
      degree.outOf[edge.source] = (degree.outOf[edge.source] || 0) + 1;
    });
    Object.keys(edges).map(function (id) { return edges[id]; }).sort(byTime).forEach(function (edge) {
      var pair = edge.source + ">" + edge.target;
      pairs[pair] = (pairs[pair] || 0) + 1;
      arrow(edge, pairs[pair] - 1, svg, labels, degree);
    });
    size.boxes.forEach(function (box) {
      var g = element("g", { "class": "mf-more", "data-key": box.key });
      g.appendChild(element("rect", { x: box.x, y: box.y, width: WIDTH, height: HEIGHT, rx: 6 }));
      g.appendChild(element("text", { x: box.x + 10, y: box.y + HEIGHT / 2 + 4 },
        "+" + box.more + (box.all ? " more (smaller)" : " more nearby, and others")));
      svg.appendChild(g);
    });
    Object.keys(nodes).forEach(function (id) { drawNode(nodes[id], svg); });
    labels.forEach(function (label) { svg.appendChild(label); });

    canvas.textContent = "";
    canvas.appendChild(svg);
    canvas.hidden = false;
    var help = document.getElementById("money-flow-help");
    if (help) help.hidden = false;
    renderTable();
    if (focusKey) {
      var again = canvas.querySelector('.mf-handle[data-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
    }
  }

  function badge(cell, text) {
    var span = document.createElement("span");
    span.className = "badge";
    span.textContent = text;
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(span);
  }

  function renderTable() {
    if (!tableBody) return;
    tableBody.textContent = "";
    Object.keys(edges).map(function (id) { return edges[id]; }).sort(byTime).forEach(function (edge) {
      var row = document.createElement("tr");
      row.setAttribute("data-transaction-id", edge.id);
      var time = document.createElement("time");
      time.setAttribute("datetime", edge.occurred_at);
      time.textContent = edge.date;
      var cells = [time, edge.source_label, edge.target_label, edge.amount + " " + edge.currency,
        edge.type + (edge.status !== "approved" ? " (" + edge.status + ")" : ""), edge.external_id];
      cells.forEach(function (content, index) {
        var cell = document.createElement("td");
        if (index === 3) cell.className = "num";
        if (typeof content === "string") cell.textContent = content;
        else cell.appendChild(content);
        if (index === 5 && edge.alerted) badge(cell, "alerted");
        if (index === 5 && edge.ring) badge(cell, "ring");
        row.appendChild(cell);
      });
      tableBody.appendChild(row);
    });
  }

  render();
  if (ringEdges.length) {
    var members = Object.keys(ringColumns).length;
    var hub = Object.keys(nodes).filter(function (id) { return nodes[id].role === "hub"; })[0];
    say("The ring: " + ringEdges.length + " transfer" + (ringEdges.length === 1 ? "" : "s") + " among " +
      members + " accounts" + (hub ? ", around " + nodes[hub].label : "") + ", drawn bold.");
  }
  view.moneyFlow = { nodes: nodes, edges: edges, opened: opened }; // for browser tests
})();
