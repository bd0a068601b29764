// litnotes: click a column header of a .litnotes-sortable table to sort by it.
(function () {
  "use strict";
  function key(cell) {
    var text = cell.textContent.trim();
    var n = Number(text);
    return text !== "" && !isNaN(n) ? n : text.toLowerCase();
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") === "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  function setup() {
    document.querySelectorAll(".litnotes-sortable table").forEach(function (table) {
      if (!table.tHead || table.dataset.litnotesSortable) return;
      table.dataset.litnotesSortable = "1";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.setAttribute("title", "点击排序");
        th.addEventListener("click", function () { sortBy(table, i, th); });
      });
    });
  }
  if (typeof document$ !== "undefined") { document$.subscribe(setup); }
  else { document.addEventListener("DOMContentLoaded", setup); }
})();
