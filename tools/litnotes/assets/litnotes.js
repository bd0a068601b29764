// litnotes: the reader's paper table (.litnotes-sortable).
//
// Filters (free text, category, venue, year, tag, reading status, has code) and
// the sort order live in the page address after "#", so a filtered view
// survives a reload and can be shared as a link, also from a file:// copy of
// the site. Headers are buttons (keyboard) and carry aria-sort. Text sorts
// with a Chinese collation. The filter values come from data-* attributes
// that the build puts on each row's title link (site/pages.py, paper_table).
(function () {
  "use strict";

  var collator = new Intl.Collator("zh", { numeric: true, sensitivity: "base" });
  var STATUS = { "to-read": "待读", "reading": "在读", "read": "已读" };
  // name in the address, label, data attribute, how a value is shown
  var FILTERS = [
    { name: "category", label: "分类", attr: "category", column: "分类" },
    { name: "venue", label: "会议/期刊", attr: "venue", column: "会议/期刊" },
    { name: "year", label: "年份", attr: "year" },
    { name: "tag", label: "标签", attr: "tags", many: true },
    { name: "status", label: "阅读状态", attr: "status", labels: STATUS }
  ];
  var STATE_KEYS = ["text", "code", "sort", "order"].concat(FILTERS.map(function (f) { return f.name; }));

  function readState() {
    var hash = window.location.hash.slice(1);
    var state = {};
    if (hash.indexOf("=") < 0) return state;  // an ordinary #anchor
    var params = new URLSearchParams(hash);
    STATE_KEYS.forEach(function (k) { if (params.get(k)) state[k] = params.get(k); });
    return state;
  }

  function writeState(state) {
    var params = new URLSearchParams();
    STATE_KEYS.forEach(function (k) { if (state[k]) params.set(k, state[k]); });
    var text = params.toString();
    var url = window.location.pathname + window.location.search + (text ? "#" + text : "");
    window.history.replaceState(window.history.state, "", url);
  }

  function rowData(row) {
    var link = row.querySelector("a[data-year]");
    return link ? link.dataset : {};
  }

  function values(data, filter) {
    var raw = data[filter.attr] || "";
    return filter.many ? raw.split(" ").filter(Boolean) : (raw ? [raw] : []);
  }

  function cellText(cell) { return cell ? cell.textContent.trim() : ""; }

  function columnIndex(table, name) {
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].dataset.litnotesLabel === name) return i;
    }
    return -1;
  }

  function element(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text) el.textContent = text;
    return el;
  }

  // Options of a filter: each value with its label, in Chinese order (years newest first).
  function options(table, rows, filter) {
    var labels = {};
    var col = filter.column ? columnIndex(table, filter.column) : -1;
    rows.forEach(function (row) {
      values(rowData(row), filter).forEach(function (v) {
        if (labels[v] === undefined) {
          labels[v] = (filter.labels && filter.labels[v]) || (col >= 0 ? cellText(row.cells[col]) : "") || v;
        }
      });
    });
    var keys = Object.keys(labels);
    keys.sort(function (a, b) {
      return filter.name === "year" ? Number(b) - Number(a) : collator.compare(labels[a], labels[b]);
    });
    return keys.map(function (k) { return [k, labels[k]]; });
  }

  function matches(row, state) {
    var data = rowData(row);
    if (state.code === "1" && data.code !== "1") return false;
    for (var i = 0; i < FILTERS.length; i++) {
      var f = FILTERS[i];
      if (state[f.name] && values(data, f).indexOf(state[f.name]) < 0) return false;
    }
    if (state.text) {
      var haystack = (row.textContent + " " + (data.tags || "")).toLowerCase();
      var words = state.text.toLowerCase().split(/\s+/).filter(Boolean);
      for (var j = 0; j < words.length; j++) {
        if (haystack.indexOf(words[j]) < 0) return false;
      }
    }
    return true;
  }

  function numericColumn(rows, index) {
    return rows.every(function (row) {
      var t = cellText(row.cells[index]);
      return t === "" || !isNaN(Number(t));
    });
  }

  function sortRows(table, rows, index, descending) {
    var numeric = numericColumn(rows, index);
    var keyed = rows.map(function (row, i) { return { row: row, key: cellText(row.cells[index]), i: i }; });
    keyed.sort(function (a, b) {
      var order = numeric ? Number(a.key) - Number(b.key) : collator.compare(a.key, b.key);
      if (descending) order = -order;
      return order || a.i - b.i;
    });
    var body = table.tBodies[0];
    keyed.forEach(function (k) { body.appendChild(k.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === index) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }

  function setup(box, table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var original = rows.slice();
    var state = readState();
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, i) {
      var label = cellText(th);
      th.dataset.litnotesLabel = label;
      th.textContent = "";
      var button = element("button", { type: "button", "class": "litnotes-sort" }, label);
      // The arrow is decoration: aria-sort on the header already tells the order.
      button.appendChild(element("span", { "class": "litnotes-sort-icon", "aria-hidden": "true" }));
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        state.sort = String(i);
        state.order = descending ? "desc" : "";
        sortRows(table, rows, i, descending);
        writeState(state);
      });
      th.appendChild(button);
    });

    var form = element("form", { "class": "litnotes-filters", role: "search", "aria-label": "筛选论文" });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var controls = {};

    var search = element("input", { type: "search", name: "text", placeholder: "标题、简称、会议……",
                                     autocomplete: "off" });
    var searchLabel = element("label", { "class": "litnotes-filter litnotes-filter--text" }, "筛选");
    searchLabel.appendChild(search);
    form.appendChild(searchLabel);
    controls.text = search;

    FILTERS.forEach(function (f) {
      var opts = options(table, rows, f);
      if (opts.length < 2 && !(opts.length === 1 && state[f.name])) return;  // nothing to choose from
      var select = element("select", { name: f.name });
      select.appendChild(element("option", { value: "" }, "全部"));
      opts.forEach(function (o) { select.appendChild(element("option", { value: o[0] }, o[1])); });
      var label = element("label", { "class": "litnotes-filter" }, f.label);
      label.appendChild(select);
      form.appendChild(label);
      controls[f.name] = select;
    });

    if (rows.some(function (r) { return rowData(r).code === "1"; }) &&
        rows.some(function (r) { return rowData(r).code === "0"; })) {
      var code = element("input", { type: "checkbox", name: "code", value: "1" });
      var codeLabel = element("label", { "class": "litnotes-filter litnotes-filter--check" });
      codeLabel.appendChild(code);
      codeLabel.appendChild(document.createTextNode("只看有代码"));
      form.appendChild(codeLabel);
      controls.code = code;
    }

    var reset = element("button", { type: "button", "class": "md-button litnotes-reset" }, "清除筛选");
    form.appendChild(reset);
    var count = element("p", { "class": "litnotes-count", role: "status", "aria-live": "polite" });
    var empty = element("p", { "class": "litnotes-empty", hidden: "" }, "没有符合条件的论文。");
    box.parentNode.insertBefore(form, box);
    box.parentNode.insertBefore(count, box);
    box.parentNode.insertBefore(empty, box.nextSibling);

    function show() {
      Object.keys(controls).forEach(function (k) {
        var c = controls[k];
        if (c.type === "checkbox") c.checked = state[k] === "1";
        else c.value = state[k] || "";
      });
      var shown = 0;
      rows.forEach(function (row) {
        var ok = matches(row, state);
        row.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = "显示 " + shown + " / " + rows.length + " 篇论文";
      empty.hidden = shown > 0;
      var index = Number(state.sort);
      if (state.sort && index >= 0 && index < headers.length) {
        sortRows(table, rows, index, state.order === "desc");
      } else {
        var body = table.tBodies[0];
        original.forEach(function (row) { body.appendChild(row); });
        headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
      }
    }

    function changed() {
      Object.keys(controls).forEach(function (k) {
        var c = controls[k];
        state[k] = c.type === "checkbox" ? (c.checked ? "1" : "") : c.value.trim() && c.value;
      });
      show();
      writeState(state);
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    reset.addEventListener("click", function () {
      state = {};
      show();
      writeState(state);
      search.focus();
    });
    window.addEventListener("hashchange", function () {
      if (window.location.hash.indexOf("=") < 0) return;
      state = readState();
      show();
    });
    show();
  }

  function setupAll() {
    document.querySelectorAll(".litnotes-sortable").forEach(function (box) {
      var table = box.querySelector("table");
      if (!table || !table.tHead || !table.tBodies.length || table.dataset.litnotesTable) return;
      table.dataset.litnotesTable = "1";
      setup(box, table);
    });
  }

  if (typeof document$ !== "undefined") { document$.subscribe(setupAll); }
  else { document.addEventListener("DOMContentLoaded", setupAll); }
})();
