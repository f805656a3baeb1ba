// Filtering and sorting of the requirement-traceability matrix (no external code; works offline).
(function () {
  "use strict";
  // folded sections (<details>) open when the address or a link points into them
  function openTo(el) {
    for (var p = el; p; p = p.parentElement) { if (p.tagName === "DETAILS") { p.open = true; } }
  }
  function reveal() {
    if (window.location.hash.length < 2) { return; }
    var el = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (el) { openTo(el); el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  document.addEventListener("click", function (e) {  // a link to where the address already points
    var a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (a && a.getAttribute("href") === window.location.hash) { reveal(); }
  });
  var matrix = document.getElementById("matrix");
  if (!matrix) { reveal(); return; }
  var controls = {
    level: document.getElementById("f-level"),
    verdict: document.getElementById("f-verdict"),
    flow: document.getElementById("f-flow"),
    text: document.getElementById("f-text")
  };
  var shown = document.getElementById("f-shown");
  var counts = document.getElementById("f-counts");

  // the verdict that counts for a row: its verdict on the chosen flow, else its overall verdict
  function verdictOf(row, flow) {
    if (!flow) { return row.dataset.verdict; }
    var cell = row.querySelector('td[data-flow="' + flow + '"]');
    return cell ? cell.dataset.cell : "not-covered";
  }

  function apply() {
    var level = controls.level.value, verdict = controls.verdict.value, flow = controls.flow.value;
    var text = controls.text.value.trim().toLowerCase();
    var visible = 0, tally = {};
    Array.prototype.forEach.call(matrix.tBodies, function (body) {
      Array.prototype.forEach.call(body.querySelectorAll("tr.req"), function (row) {
        var v = verdictOf(row, flow);
        var ok = (!level || row.dataset.level === level) &&
          (!verdict || v === verdict) &&
          (!flow || (" " + row.dataset.flows + " ").indexOf(" " + flow + " ") >= 0) &&
          (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
        row.hidden = !ok;
        if (ok) { visible += 1; tally[v] = (tally[v] || 0) + 1; }
      });
    });
    shown.textContent = visible;
    counts.textContent = Object.keys(tally).sort().map(function (k) { return tally[k] + " " + k; }).join(", ");
  }

  function sortBy(th) {
    var col = th.cellIndex;
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    Array.prototype.forEach.call(matrix.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.querySelectorAll("tr.req"));
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort || a.cells[col].textContent;
        var y = b.cells[col].dataset.sort || b.cells[col].textContent;
        return sign * x.localeCompare(y, undefined, { numeric: true });
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  }

  Object.keys(controls).forEach(function (k) { controls[k].addEventListener("input", apply); });
  Array.prototype.forEach.call(matrix.tHead.querySelectorAll("th.sortable"), function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  var params = new URLSearchParams(window.location.search);
  Object.keys(controls).forEach(function (k) {
    if (params.get(k)) { controls[k].value = params.get(k); openTo(matrix); }  // a filtered address: show it
  });
  apply();
  reveal();
})();
