// The linked-entity graph of a case page: reads the JSON the template embeds in
// <script type="application/json" id="linked-graph"> (cases.linked.linked_graph_json) and draws
// it with the vendored Cytoscape.js into #linked-graph-canvas. Nodes are coloured by kind and
// outlined by risk; clicking a node opens its page (the tables below carry the same links for
// keyboard and screen-reader users).
// Without JavaScript the template's tables show the same data.
(function () {
  "use strict";

  var source = document.getElementById("linked-graph");
  var container = document.getElementById("linked-graph-canvas");
  if (!source || !container || typeof window.cytoscape !== "function") return;

  var data;
  try {
    data = JSON.parse(source.textContent);
  } catch (error) {
    return;
  }
  if (!data || !data.nodes || !data.nodes.length) return;

  var status = document.getElementById("linked-graph-status");
  var KIND_COLOURS = {
    account: "#0b5cad",
    customer: "#6d28d9",
    counterparty: "#57606a",
    device: "#0f766e",
    ip: "#b45309"
  };
  var KIND_SHAPES = {
    account: "round-rectangle",
    customer: "ellipse",
    counterparty: "rectangle",
    device: "diamond",
    ip: "hexagon"
  };
  var RISK_BORDERS = { high: "#b42318", medium: "#d97706", low: "#8c959f" };
  var EDGE_COLOURS = {
    transfer: "#1b1f24",
    shared_device: "#0f766e",
    shared_ip: "#b45309",
    shared_counterparty: "#57606a",
    owns: "#c4c9cf"
  };

  function say(text) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || "";
  }

  var elements = [];
  data.nodes.forEach(function (node) {
    elements.push({
      group: "nodes",
      data: {
        id: node.id,
        label: node.label,
        kind: node.kind,
        kindLabel: node.kind_label || node.kind,
        risk: node.risk || "",
        hop: node.hop,
        url: node.url || "",
        subject: node.subject ? "yes" : "no",
        colour: KIND_COLOURS[node.kind] || "#57606a",
        shape: KIND_SHAPES[node.kind] || "ellipse",
        border: RISK_BORDERS[node.risk] || "#ffffff",
        borderWidth: node.risk === "high" ? 4 : node.risk === "medium" ? 3 : 1
      }
    });
  });
  data.edges.forEach(function (edge) {
    elements.push({
      group: "edges",
      data: {
        id: edge.id,
        source: edge.source,
        target: edge.target,
        kind: edge.kind,
        kindLabel: edge.kind === "owns" ? "" : edge.kind_label || edge.kind,
        label: edge.label || edge.kind,
        colour: EDGE_COLOURS[edge.kind] || "#57606a"
      }
    });
  });

  container.hidden = false;
  var legend = document.getElementById("linked-graph-legend");
  if (legend) legend.hidden = false;
  var maxHop = data.nodes.reduce(function (max, node) { return Math.max(max, node.hop); }, 0);

  var cy = window.cytoscape({
    container: container,
    elements: elements,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3,
    layout: {
      name: "concentric",
      concentric: function (node) { return maxHop + 1 - node.data("hop"); },
      levelWidth: function () { return 1; },
      minNodeSpacing: 50,
      animate: false
    },
    style: [
      {
        selector: "node",
        style: {
          "background-color": "data(colour)",
          "shape": "data(shape)",
          "border-color": "data(border)",
          "border-width": "data(borderWidth)",
          "label": "data(label)",
          "font-size": 10,
          "color": "#1b1f24",
          "text-valign": "bottom",
          "text-margin-y": 4,
          "text-wrap": "ellipsis",
          "text-max-width": 120,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.8,
          "text-background-padding": 1,
          "width": 22,
          "height": 22
        }
      },
      {
        selector: "node[subject = 'yes']",
        style: { "width": 34, "height": 34, "font-weight": "bold", "border-style": "double", "border-width": 6 }
      },
      {
        selector: "edge",
        style: {
          "width": 1.5,
          "line-color": "data(colour)",
          "curve-style": "bezier",
          "label": "data(kindLabel)",
          "font-size": 8,
          "color": "#57606a",
          "text-rotation": "autorotate",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": 1
        }
      },
      {
        selector: "edge[kind = 'transfer'], edge[kind = 'shared_counterparty']",
        style: { "target-arrow-shape": "triangle", "target-arrow-color": "data(colour)", "arrow-scale": 0.8 }
      },
      { selector: "edge[kind = 'shared_device'], edge[kind = 'shared_ip']", style: { "line-style": "dashed" } },
      { selector: "edge[kind = 'owns']", style: { "line-style": "dotted", "width": 1 } },
      { selector: ":selected", style: { "overlay-color": "#0b5cad", "overlay-opacity": 0.2 } }
    ]
  });

  // Rings by distance from the subject give the start; a force-directed pass then pulls each
  // account next to what it is linked to (deterministic: no random start).
  cy.layout({
    name: "cose",
    randomize: false,
    animate: false,
    idealEdgeLength: function (edge) { return edge.data("kind") === "owns" ? 45 : 110; },
    nodeRepulsion: function () { return 9000; },
    padding: 30
  }).run();

  container.cy = cy; // for browser tests and for the page to focus a node

  function describeNode(node) {
    var parts = [node.data("label"), node.data("kindLabel")];
    if (node.data("risk")) parts.push("risk " + node.data("risk"));
    parts.push(node.data("hop") === 0 ? "subject" : node.data("hop") + " hop(s) away");
    if (node.data("url")) parts.push("click to open");
    return parts.join(" · ");
  }

  cy.on("mouseover", "node", function (event) {
    container.style.cursor = event.target.data("url") ? "pointer" : "default";
    say(describeNode(event.target));
  });
  cy.on("mouseout", "node, edge", function () {
    container.style.cursor = "default";
    say("");
  });
  cy.on("mouseover", "edge", function (event) {
    var edge = event.target;
    say(edge.source().data("label") + " → " + edge.target().data("label") + ": " + edge.data("label"));
  });
  cy.on("tap", "node", function (event) {
    var url = event.target.data("url");
    if (url) window.location.assign(url);
  });

  if (data.truncated) say("Only the " + data.limit + " closest entities are drawn.");
})();
