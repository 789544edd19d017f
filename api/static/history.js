// Saved conversations (server-side, /v1/conversations): the sidebar list with open, rename,
// delete and Markdown export, and saving each answered turn. The page's current conversation
// id is remembered in localStorage so a reload reopens it.
"use strict";

const BriefQAHistory = (() => {
  const { apiFetch, errorMessage, el } = BriefQA;
  const CURRENT = "briefqa.conversation";
  const SAVED_FIELDS = [
    "citations", "short_answer", "leads", "tier", "confidence", "grounded", "abstained", "note",
  ];

  let currentId = null;
  let onOpen = () => {};

  function remember(id) {
    currentId = id;
    try {
      if (id) localStorage.setItem(CURRENT, id);
      else localStorage.removeItem(CURRENT);
    } catch {
      // storage disabled: the conversation is still saved, just not reopened on reload
    }
  }

  function remembered() {
    try {
      return localStorage.getItem(CURRENT);
    } catch {
      return null;
    }
  }

  function status(text, isError = false) {
    const line = document.getElementById("history-status");
    if (!line) return;
    line.textContent = text;
    line.classList.toggle("error", isError);
  }

  async function json(path, options = {}) {
    const response = await apiFetch(path, options);
    if (!response.ok) throw new Error(await errorMessage(response));
    return response.json();
  }

  function send(method, body) {
    return {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
  }

  // One answered turn: creates the conversation on its first answer.
  async function save(question, final) {
    try {
      if (!currentId) remember((await json("/v1/conversations", send("POST", {}))).id);
      const turn = { question, answer: final.answer ?? "", model: final.model ?? null };
      for (const field of SAVED_FIELDS) if (final[field] !== undefined) turn[field] = final[field];
      await json(`/v1/conversations/${currentId}/messages`, send("POST", turn));
      status("");
    } catch (error) {
      status("Not saved: " + error.message, true);
    }
    await refresh();
  }

  function item(summary) {
    const row = el("li", "conversation" + (summary.id === currentId ? " current" : ""));
    row.dataset.id = summary.id;
    const open = el("button", "conversation-open link", summary.title);
    open.type = "button";
    open.title = `${summary.turns} question${summary.turns === 1 ? "" : "s"}, ${summary.updated}`;
    open.addEventListener("click", () => openConversation(summary.id));
    const actions = el("div", "conversation-actions");
    const rename = el("button", "conversation-rename link", "Rename");
    rename.type = "button";
    rename.addEventListener("click", () => renameConversation(summary));
    const exporter = el("button", "conversation-export link", "Export");
    exporter.type = "button";
    exporter.addEventListener("click", () => exportConversation(summary));
    const remove = el("button", "conversation-delete link", "Delete");
    remove.type = "button";
    remove.addEventListener("click", () => deleteConversation(summary));
    for (const [button, what] of [[rename, "Rename"], [exporter, "Export"], [remove, "Delete"]]) {
      button.setAttribute("aria-label", `${what} “${summary.title}”`);
    }
    actions.append(rename, exporter, remove);
    row.append(open, actions);
    return row;
  }

  async function refresh() {
    const list = document.getElementById("history-list");
    if (!list) return;
    const response = await apiFetch("/v1/conversations");
    if (!response.ok) {
      list.replaceChildren(el("li", "error", await errorMessage(response)));
      return;
    }
    const summaries = await response.json();
    list.replaceChildren(...summaries.map(item));
    if (!summaries.length) list.append(el("li", "muted small", "No saved conversations yet."));
  }

  // ``started``: whether the user began a conversation meanwhile (reopening on load must not
  // replace it); a conversation the user picks from the list always opens.
  async function openConversation(id, started = () => false) {
    try {
      const conversation = await json(`/v1/conversations/${encodeURIComponent(id)}`);
      if (!started()) {
        remember(conversation.id);
        onOpen(conversation);
      }
      status("");
    } catch (error) {
      if (id === remembered()) remember(null);
      status("Could not open: " + error.message, true);
    }
    await refresh();
  }

  async function renameConversation(summary) {
    const title = window.prompt("Rename conversation", summary.title);
    if (title === null || !title.trim()) return;
    try {
      await json(`/v1/conversations/${summary.id}`, send("PATCH", { title: title.trim() }));
    } catch (error) {
      status("Rename failed: " + error.message, true);
    }
    await refresh();
  }

  async function deleteConversation(summary) {
    if (!window.confirm(`Delete the conversation “${summary.title}”?`)) return;
    const response = await apiFetch(`/v1/conversations/${summary.id}`, { method: "DELETE" });
    if (!response.ok) status("Delete failed: " + (await errorMessage(response)), true);
    if (summary.id === currentId) {
      remember(null);
      onOpen(null);
    }
    await refresh();
  }

  // A download through fetch (the key goes in a header, so a plain link would be refused).
  async function exportConversation(summary) {
    const response = await apiFetch(`/v1/conversations/${summary.id}/export.md`);
    if (!response.ok) {
      status("Export failed: " + (await errorMessage(response)), true);
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] || "conversation.md";
    const url = URL.createObjectURL(await response.blob());
    const link = el("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function start() {
    remember(null);
  }

  // The conversation a reload left open, read when the script loads: the page loads its
  // documents before ``init``, and a question asked meanwhile saves (and remembers) a new one.
  const openAtLoad = remembered();

  // ``open`` renders a conversation (or clears the chat for null); reopens the one left open,
  // unless ``started()``: the user asked before the page finished loading.
  async function init(open, started = () => false) {
    onOpen = open;
    if (openAtLoad && !currentId && !started()) await openConversation(openAtLoad, started);
    else await refresh();
  }

  return { init, save, start, refresh, current: () => currentId };
})();
