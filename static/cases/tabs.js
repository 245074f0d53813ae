// Tabs of the case page (money flow | two-hop neighbourhood), as the WAI-ARIA tabs pattern:
// arrow keys, Home and End move between tabs, the chosen panel shows. Without JavaScript the
// tab list stays hidden and both panels show one after the other.
(function () {
  "use strict";

  document.querySelectorAll("[data-tabs]").forEach(function (list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
    if (!tabs.length) return;

    function choose(chosen, focus) {
      tabs.forEach(function (tab) {
        var selected = tab === chosen;
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        tab.tabIndex = selected ? 0 : -1;
        var panel = document.getElementById(tab.getAttribute("aria-controls"));
        if (panel) panel.hidden = !selected;
      });
      if (focus) chosen.focus();
      // Graphs drawn while their panel was hidden (Cytoscape) measure themselves again.
      window.dispatchEvent(new Event("resize"));
    }

    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { choose(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        choose(tabs[(next + tabs.length) % tabs.length], true);
      });
    });
    list.hidden = false;
    choose(tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0] || tabs[0], false);
  });
})();
