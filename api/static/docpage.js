// The documents page (#documents on the chat page, so it shares its auth and data): every
// stored document in a sortable, filterable table, 100 rows at a time, with edit and delete.
// The chat page passes in its document list and actions; nothing here talks to the server.
"use strict";

const BriefQADocPage = (() => {
  const { el } = BriefQA;
  const PAGE_ROWS = 100;
  const SORTS = {
    newest: (a, b) => (b.date || "").localeCompare(a.date || ""),
    oldest: (a, b) => (a.date || "9999").localeCompare(b.date || "9999"),
    title: (a, b) => (a.title || a.doc_id).localeCompare(b.title || b.doc_id),
    source: (a, b) => (a.source || "\uffff").localeCompare(b.source || "\uffff"),
  };

  let hooks = null;
  let limit = PAGE_ROWS;

  function visible() {
    return window.location.hash === "#documents";
  }

  function matching(docs, needle) {
    const text = needle.trim().toLowerCase();
    if (!text) return [...docs];
    return docs.filter((d) =>
      [d.title, d.source, d.doc_id, d.date].some((v) => (v || "").toLowerCase().includes(text)),
    );
  }

  function cell(text, className) {
    return el("td", className, text);
  }

  function row(doc) {
    const tr = el("tr");
    tr.dataset.docId = doc.doc_id;
    const open = el("button", "link docpage-open", doc.title || doc.doc_id);
    open.type = "button";
    open.addEventListener("click", () => hooks.open(doc.doc_id));
    const title = el("td");
    title.append(open);
    const pages = doc.page_starts ? String(doc.page_starts.length) : "";
    const actions = el("td", "docpage-actions");
    const edit = el("button", "secondary docpage-edit", "Edit");
    edit.type = "button";
    edit.addEventListener("click", () => {
      const wide = el("td");
      wide.colSpan = 7;
      wide.append(hooks.editForm(doc));
      tr.replaceChildren(wide);
    });
    const remove = el("button", "secondary docpage-delete", "Delete");
    remove.type = "button";
    remove.addEventListener("click", () => hooks.remove(doc.doc_id));
    actions.append(edit, remove);
    tr.append(
      title,
      cell(doc.date || "undated", "docpage-date"),
      cell(doc.source || "", "docpage-source"),
      cell(doc.doc_id, "docpage-id muted"),
      cell(pages, "num"),
      cell(String(doc.n_chunks), "num"),
      actions,
    );
    return tr;
  }

  function render() {
    if (!hooks) return;
    const docs = hooks.documents();
    const order = document.getElementById("docpage-sort").value;
    const shown = matching(docs, document.getElementById("docpage-filter").value);
    shown.sort((a, b) => SORTS[order](a, b) || SORTS.title(a, b));
    const rows = shown.slice(0, limit).map(row);
    document.getElementById("docpage-rows").replaceChildren(...rows);
    document.getElementById("docpage-count").textContent =
      `${rows.length} of ${shown.length} shown` +
      (shown.length === docs.length ? "" : ` (${docs.length} stored)`);
    document.getElementById("docpage-more").hidden = shown.length <= limit;
  }

  // Shows the page for #documents and the chat otherwise.
  function route() {
    const on = visible();
    document.getElementById("documents-page").hidden = !on;
    document.querySelector("main.layout").hidden = on;
    document.getElementById("documents-link").setAttribute("aria-current", on ? "page" : "false");
    if (on) render();
  }

  function init(given) {
    hooks = given;
    const reset = () => {
      limit = PAGE_ROWS;
      render();
    };
    document.getElementById("docpage-filter").addEventListener("input", reset);
    document.getElementById("docpage-sort").addEventListener("change", reset);
    document.getElementById("docpage-more").addEventListener("click", () => {
      limit += PAGE_ROWS;
      render();
    });
    window.addEventListener("hashchange", route);
    route();
  }

  return { init, render, visible };
})();
