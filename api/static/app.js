// The chat page: streamed answers with clickable [n] citations, the document viewer with the
// quoted span highlighted, the document list (upload, delete) and the retrieval filters.
// All server text goes in through textContent / text nodes: documents are untrusted.
"use strict";

(() => {
  const { apiFetch, errorMessage, el } = BriefQA;
  const $ = (id) => document.getElementById(id);

  const PAGE_WORD = { page: "page", slide: "slide" };
  const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

  // The conversation as sent to /v1/chat/completions: the verified answers, not raw deltas.
  let conversation = [];
  let busy = false;
  let documents = []; // the last document list, for the undated-documents note

  // --- documents ----------------------------------------------------------------------------

  async function loadDocuments() {
    const response = await apiFetch("/v1/documents");
    const list = $("doc-list");
    if (!response.ok) {
      list.replaceChildren(el("li", "error", await errorMessage(response)));
      return;
    }
    const docs = await response.json();
    documents = docs;
    updateUndatedNote();
    renderExamples(docs);
    renderDocuments();
    BriefQADocPage.render();
    updateSources(docs);
  }

  // Newest first (undated last, then by title) or by title; the filter matches title, source
  // and id.
  function sortedDocuments(docs, order, needle) {
    const text = needle.trim().toLowerCase();
    const shown = text
      ? docs.filter((d) =>
          [d.title, d.source, d.doc_id].some((v) => (v || "").toLowerCase().includes(text)),
        )
      : [...docs];
    const byTitle = (a, b) => (a.title || a.doc_id).localeCompare(b.title || b.doc_id);
    if (order === "title") return shown.sort(byTitle);
    return shown.sort((a, b) => (b.date || "").localeCompare(a.date || "") || byTitle(a, b));
  }

  function renderDocuments() {
    const shown = sortedDocuments(documents, $("doc-sort").value, $("doc-filter").value);
    const total = documents.length;
    $("doc-count").textContent = shown.length === total ? `(${total})` : `(${shown.length} of ${total})`;
    $("doc-list").replaceChildren(...shown.map(documentItem));
  }

  function documentItem(doc) {
    const item = el("li", "doc");
    item.dataset.docId = doc.doc_id;
    const open = el("button", "doc-open link", doc.title || doc.doc_id);
    open.type = "button";
    open.title = "Open " + doc.doc_id;
    open.addEventListener("click", () => {
      setDrawer(false);
      openDocument(doc.doc_id, null);
    });
    const pages = doc.page_starts
      ? `${doc.page_starts.length} ${PAGE_WORD[doc.page_kind] || "page"}s`
      : null;
    const attached = doc.attached_to ? "attached to " + doc.attached_to : null;
    const when = el("span", "doc-date", doc.date || "undated");
    const where = el("span", "doc-source", doc.source || "no source");
    const rest = [doc.doc_id, pages, attached].filter(Boolean).join(" · ");
    const meta = el("div", "doc-meta muted");
    meta.append(when, " · ", where, " · ", rest);
    meta.title = `${doc.n_chunks} chunk${doc.n_chunks === 1 ? "" : "s"}`;
    const actions = el("div", "doc-actions");
    const edit = el("button", "doc-edit secondary", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit " + doc.doc_id);
    edit.addEventListener("click", () => item.replaceChildren(editForm(doc)));
    const remove = el("button", "doc-delete secondary", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete " + doc.doc_id);
    remove.addEventListener("click", () => deleteDocument(doc.doc_id));
    actions.append(edit, remove);
    item.append(open, meta, actions);
    return item;
  }

  // Title, date and source after upload (PATCH, admin); only changed fields are sent.
  function editForm(doc) {
    const form = el("form", "doc-edit-form");
    const field = (label, input) => {
      const wrap = el("label", "field", label);
      wrap.append(input);
      return wrap;
    };
    const title = Object.assign(el("input"), { name: "title", value: doc.title, required: true });
    const date = Object.assign(el("input"), { name: "date", type: "date", value: doc.date || "" });
    const source = Object.assign(el("input"), { name: "source", value: doc.source || "" });
    const note = el("p", "status small", "A date or source can be changed, not removed.");
    const save = el("button", null, "Save");
    save.type = "submit";
    const cancel = el("button", "secondary", "Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", () => {
      renderDocuments();
      BriefQADocPage.render();
    });
    const buttons = el("div", "dialog-buttons");
    buttons.append(cancel, save);
    form.append(field("Title", title), field("Date", date), field("Source", source), note, buttons);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = {};
      if (title.value.trim() !== doc.title) changes.title = title.value.trim();
      if (date.value && date.value !== doc.date) changes.date = date.value;
      if (source.value.trim() && source.value.trim() !== doc.source) {
        changes.source = source.value.trim();
      }
      if (!Object.keys(changes).length) {
        renderDocuments();
        BriefQADocPage.render();
        return;
      }
      save.disabled = true;
      note.textContent = "Saving (the document is re-indexed)…";
      const response = await apiFetch("/v1/documents/" + encodeURIComponent(doc.doc_id), {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(changes),
      });
      if (!response.ok) {
        note.classList.add("error");
        note.textContent = "Not saved: " + (await errorMessage(response));
        save.disabled = false;
        return;
      }
      await loadDocuments();
    });
    return form;
  }

  // --- empty chat: example questions from the stored documents' titles -------------------

  const MAX_EXAMPLES = 3;

  function exampleQuestions(docs) {
    const titled = docs.filter((d) => d.title && !d.attached_to && d.title.length <= 90);
    // newest first; undated ones after the dated
    titled.sort((a, b) => (b.date || "").localeCompare(a.date || ""));
    const seen = new Set();
    const out = [];
    for (const doc of titled) {
      if (seen.has(doc.title)) continue;
      seen.add(doc.title);
      out.push(`What does \u201c${doc.title}\u201d report?`);
      if (out.length === MAX_EXAMPLES) break;
    }
    return out;
  }

  function renderExamples(docs) {
    const list = $("examples");
    if (!list) return;
    const items = exampleQuestions(docs).map((question) => {
      const button = el("button", "example link", question);
      button.type = "button";
      button.addEventListener("click", () => {
        $("question").value = question;
        $("ask-form").requestSubmit();
      });
      const item = el("li");
      item.append(button);
      return item;
    });
    list.replaceChildren(...items);
  }

  // --- drawer (narrow screens): filters and documents slide in over the chat --------------

  function setDrawer(open) {
    $("sidebar").classList.toggle("open", open);
    $("drawer-backdrop").hidden = !open;
    $("drawer-toggle").setAttribute("aria-expanded", String(open));
    if (open) $("drawer-close").focus();
  }

  function bindDrawer() {
    $("drawer-toggle").addEventListener("click", () => setDrawer(true));
    $("drawer-close").addEventListener("click", () => setDrawer(false));
    $("drawer-backdrop").addEventListener("click", () => setDrawer(false));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && $("sidebar").classList.contains("open")) setDrawer(false);
    });
  }

  function updateSources(docs) {
    const sources = [...new Set(docs.map((d) => d.source).filter(Boolean))].sort();
    fillSelect($("filter-source"), "any source", sources);
  }

  // A select's options: a first "" option labelled `empty`, then `values`; the user's
  // choice is kept while it is still offered.
  function fillSelect(select, empty, values) {
    const chosen = select.value;
    const options = [empty, ...values].map((value, i) =>
      Object.assign(el("option", null, value), { value: i ? value : "" }),
    );
    select.replaceChildren(...options);
    select.value = values.includes(chosen) ? chosen : "";
  }

  // Several files in one multipart request; the server answers one result per file.
  async function uploadFiles(files) {
    const status = $("upload-status");
    const results = $("upload-results");
    status.classList.remove("error");
    if (!files.length) {
      status.textContent = "Choose or drop files first.";
      return;
    }
    const rows = new Map();
    const form = new FormData();
    for (const file of files) {
      form.append("files", file, file.name);
      rows.set(file.name, el("li", "pending", `${file.name}: uploading…`));
    }
    results.replaceChildren(...rows.values());
    status.textContent = `Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`;
    $("upload-button").disabled = true;
    try {
      const response = await apiFetch("/v1/documents/files", { method: "POST", body: form });
      if (!response.ok && response.status !== 400) {
        status.classList.add("error");
        status.textContent = "Upload failed: " + (await errorMessage(response));
        results.replaceChildren();
        return;
      }
      const body = await response.json();
      if (!response.ok) {
        status.classList.add("error");
        status.textContent = "Upload failed: " + body.detail;
      } else {
        status.textContent = body.summary;
      }
      for (const result of body.results || []) {
        const row = rows.get(result.name) || el("li");
        row.className = result.doc_ids.length ? "stored" : "error";
        row.textContent = result.doc_ids.length
          ? `${result.name}: stored as ${result.doc_ids.join(", ")}`
          : `${result.name}: ${result.status} ${result.error}`;
        results.append(row);
      }
      $("upload-file").value = "";
      await loadDocuments();
    } catch (error) {
      status.classList.add("error");
      status.textContent = "Upload failed: " + error.message;
    } finally {
      $("upload-button").disabled = false;
    }
  }

  function uploadDocument(event) {
    event.preventDefault();
    return uploadFiles([...$("upload-file").files]);
  }

  function bindDropZone() {
    const zone = $("upload-form");
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      uploadFiles([...(event.dataTransfer?.files || [])]);
    });
  }

  async function deleteDocument(docId) {
    if (!window.confirm(`Delete "${docId}" from the briefings?`)) return;
    const status = $("upload-status");
    status.classList.remove("error");
    const response = await apiFetch("/v1/documents/" + encodeURIComponent(docId), {
      method: "DELETE",
    });
    if (!response.ok) {
      status.classList.add("error");
      status.textContent = "Delete failed: " + (await errorMessage(response));
      return;
    }
    status.textContent = `Deleted ${docId}.`;
    if ($("viewer").dataset.docId === docId) closeViewer();
    await loadDocuments();
  }

  // --- document viewer ----------------------------------------------------------------------

  // Citation offsets count Unicode code points (Python); JS strings index UTF-16 units.
  function unitIndex(text, codePoint) {
    if (!/[\uD800-\uDFFF]/.test(text)) return codePoint;
    let units = 0;
    let count = 0;
    for (const ch of text) {
      if (count === codePoint) return units;
      units += ch.length;
      count += 1;
    }
    return units;
  }

  function locate(text, citation) {
    let start = unitIndex(text, citation.start_char);
    let end = unitIndex(text, citation.end_char);
    if (text.slice(start, end) === citation.quote) return [start, end, true];
    start = text.indexOf(citation.quote); // the document changed since the answer
    if (start >= 0 && citation.quote) return [start, start + citation.quote.length, false];
    return null;
  }

  async function openDocument(docId, citation) {
    const viewer = $("viewer");
    const body = $("viewer-text");
    const note = $("viewer-note");
    viewer.hidden = false;
    viewer.dataset.docId = docId;
    $("viewer-title").textContent = docId;
    $("viewer-meta").textContent = "Loading…";
    note.textContent = "";
    note.classList.remove("error");
    body.replaceChildren();
    const response = await apiFetch("/v1/documents/" + encodeURIComponent(docId));
    if (!response.ok) {
      $("viewer-meta").textContent = "";
      note.classList.add("error");
      note.textContent = await errorMessage(response);
      return;
    }
    const doc = await response.json();
    $("viewer-title").textContent = doc.title || doc.doc_id;
    renderMeta(doc);
    const span = citation ? locate(doc.text, citation) : null;
    if (!span) {
      body.append(document.createTextNode(doc.text));
      if (citation) {
        note.classList.add("error");
        note.textContent = "The quoted passage is no longer in this document.";
      }
      body.scrollTop = 0;
      return;
    }
    const [start, end, exact] = span;
    const mark = el("mark", "quote-highlight", doc.text.slice(start, end));
    mark.id = "highlight";
    body.append(document.createTextNode(doc.text.slice(0, start)), mark);
    body.append(document.createTextNode(doc.text.slice(end)));
    const where = citation.page ? `${PAGE_WORD[doc.page_kind] || "page"} ${citation.page}, ` : "";
    note.textContent = `Quote [${citation.n}], ${where}characters ${citation.start_char}–${citation.end_char}`;
    if (!exact) note.textContent += " (found elsewhere: the document changed since the answer)";
    mark.scrollIntoView({ block: "center" });
  }

  function renderMeta(doc) {
    const meta = $("viewer-meta");
    const pages = doc.page_starts
      ? `${doc.page_starts.length} ${PAGE_WORD[doc.page_kind] || "page"}s`
      : null;
    const parts = [doc.doc_id, doc.source, doc.date, pages].filter(Boolean).join(" · ");
    meta.replaceChildren(document.createTextNode(parts));
    if (doc.url && /^https?:\/\//i.test(doc.url)) {
      const link = el("a", null, "original");
      link.href = doc.url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      meta.append(" · ", link);
    }
    // Text the file hid from its reader was never stored; show what was left out.
    const hidden = doc.hidden_text || [];
    if (hidden.length) {
      const box = el("details", "hidden-text");
      const plural = hidden.length === 1 ? "passage" : "passages";
      box.append(el("summary", null, `${hidden.length} hidden ${plural} left out (never quoted)`));
      const list = el("ul");
      for (const text of hidden) list.append(el("li", null, text));
      box.append(list);
      meta.append(box);
    }
  }

  function closeViewer() {
    const viewer = $("viewer");
    viewer.hidden = true;
    delete viewer.dataset.docId;
  }

  // --- chat ---------------------------------------------------------------------------------

  function currentFilters() {
    const filters = {};
    const source = $("filter-source").value;
    if (source) filters.sources = [source];
    if ($("filter-from").value) filters.date_from = $("filter-from").value;
    if ($("filter-to").value) filters.date_to = $("filter-to").value;
    if ((filters.date_from || filters.date_to) && $("filter-undated").checked) {
      filters.include_undated = true;
    }
    return Object.keys(filters).length ? filters : null;
  }

  // A date range leaves undated documents out: say how many, and offer to include them.
  function updateUndatedNote() {
    const note = $("undated-note");
    const ranged = $("filter-from").value || $("filter-to").value;
    const source = $("filter-source").value;
    const undated = documents.filter((d) => !d.date && (!source || d.source === source)).length;
    note.hidden = !(ranged && undated);
    const plural = undated === 1 ? "document has" : "documents have";
    note.textContent = $("filter-undated").checked
      ? `${undated} undated ${plural} no date and will be searched too.`
      : `${undated} undated ${plural} no date and will be left out; tick "include undated" to search them.`;
  }

  function describeFilters(filters) {
    if (!filters) return "";
    const parts = [];
    if (filters.sources) parts.push("source: " + filters.sources.join(", "));
    if (filters.date_from || filters.date_to) {
      parts.push(`dates: ${filters.date_from || "…"} to ${filters.date_to || "…"}`);
    }
    return parts.join("; ");
  }

  function addUserMessage(question, filters) {
    $("empty-hint")?.remove();
    const message = el("div", "message user");
    message.append(el("div", "bubble", question));
    const described = describeFilters(filters);
    if (described) message.append(el("div", "filters muted", "filtered by " + described));
    $("messages").append(message);
    return message;
  }

  function addAssistantMessage() {
    const message = el("div", "message assistant");
    message.setAttribute("aria-busy", "true");
    const answer = el("div", "bubble answer");
    const status = el("div", "answer-status pending", "Answering…");
    message.append(answer, status);
    $("messages").append(message);
    return message;
  }

  // Server-sent events from a fetch() body: yields each event's data field.
  async function* sseData(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield data;
        end = buffer.indexOf("\n\n");
      }
    }
  }

  function citationButton(citation) {
    const button = el("button", "cite", `[${citation.n}]`);
    button.type = "button";
    button.dataset.n = String(citation.n);
    button.title = `${citation.title || citation.doc_id}: “${citation.quote}”`;
    button.addEventListener("click", () => openDocument(citation.doc_id, citation));
    return button;
  }

  // The verified answer with each [n] (or [n, m]) marker turned into citation buttons.
  function renderAnswer(target, answer, citations) {
    const byN = new Map(citations.map((c) => [c.n, c]));
    const nodes = [];
    let last = 0;
    for (const match of answer.matchAll(MARKER)) {
      nodes.push(document.createTextNode(answer.slice(last, match.index)));
      for (const n of match[1].split(",").map((s) => Number.parseInt(s.trim(), 10))) {
        const citation = byN.get(n);
        nodes.push(citation ? citationButton(citation) : document.createTextNode(`[${n}]`));
      }
      last = match.index + match[0].length;
    }
    nodes.push(document.createTextNode(answer.slice(last)));
    target.replaceChildren(...nodes);
  }

  // The extractive answer leads with 'Short answer: “quote” [1]'; the short answer is shown on
  // its own line, so the sentence is shown once, without the prefix and its quotation marks.
  function withoutLead(answer, short) {
    if (!short) return answer;
    const prefix = `${short}: \u201c`;
    if (!answer.startsWith(prefix)) return answer;
    return answer.slice(prefix.length).replace(/\u201d(\s*\[\d)/, "$1");
  }

  // Short answer (bold only when the server is sure enough to lead with it), then the cited
  // sentences with their [n] markers; a refusal states why.
  function renderBubble(target, final, streamed) {
    const text = final.answer ?? streamed;
    const citations = final.citations || [];
    const short = !final.abstained ? final.short_answer : null;
    // A list of documents or of parts is one line each: shown as bullets, each with its markers.
    const listed = !final.abstained && final.answer_type && final.answer_type !== "fact";
    const sentences = el(listed ? "ul" : "p", listed ? "cited answer-list" : "cited");
    if (listed) {
      for (const line of text.split("\n")) {
        const item = el("li");
        renderAnswer(item, line, citations);
        sentences.append(item);
      }
    } else {
      renderAnswer(sentences, withoutLead(text, short), citations);
    }
    const parts = [];
    if (final.tier === "guess" && !final.abstained) {
      parts.push(el("p", "guess-label", "Best guess: below the confidence needed to answer."));
    }
    if (short && !listed) {
      const line = el("p", final.leads ? "short-answer leads" : "short-answer guess");
      if (final.leads) line.append(el("strong", null, short));
      else line.append("Best guess: ", el("span", null, short));
      parts.push(line);
    }
    parts.push(sentences);
    if (final.abstained && final.note) parts.push(el("p", "refusal-reason", `Why: ${final.note}.`));
    target.replaceChildren(...parts);
    return sentences.textContent;
  }

  // One card per source; its quote is shown only when the answer does not already show it.
  function renderSources(citations, shown = "") {
    const list = el("ol", "sources");
    for (const c of citations) {
      const item = el("li");
      item.value = c.n;
      const head = el("div", "source-head");
      head.append(citationButton(c), " ", el("span", "source-title", c.title || c.doc_id));
      const page = c.page ? `p. ${c.page}` : null;
      const meta = [c.source, c.date, page].filter(Boolean).join(" · ");
      if (meta) head.append(el("span", "muted", " — " + meta));
      item.append(head);
      if (c.quote && !shown.includes(c.quote)) item.append(el("blockquote", "quote", c.quote));
      list.append(item);
    }
    return list;
  }

  // Two separate signals: whether the quotes back the sentences (verified by the server)
  // and how likely the answer answers the question (its calibrated confidence).
  function renderStatus(status, final) {
    status.classList.remove("pending");
    if (final.abstained) {
      status.className = "answer-status abstained";
      status.textContent = final.note
        ? "Abstained: the briefings don't answer this (why: above)."
        : "Abstained: the briefings don't answer this.";
    } else {
      const confidence = typeof final.confidence === "number" ? final.confidence : 0;
      const low = confidence < 0.6;
      if (final.grounded) {
        status.className = "answer-status grounded" + (low ? " low-confidence" : "");
        status.textContent = "Quotes verified: every sentence is backed by its quotes.";
      } else {
        status.className = "answer-status unverified";
        status.textContent =
          "Unverified: not every sentence is fully backed by its quotes. Check the sources.";
      }
      const pct = Math.round(confidence * 100);
      status.textContent += low
        ? ` Low confidence (${pct}%) that this answers the question.`
        : ` Confidence that this answers the question: ${pct}%.`;
    }
    status.textContent += ` (${final.model})`;
  }

  function fail(message, text) {
    const status = message.querySelector(".answer-status");
    status.className = "answer-status error";
    status.textContent = text;
    message.removeAttribute("aria-busy");
  }

  async function ask(question) {
    const filters = currentFilters();
    addUserMessage(question, filters);
    const message = addAssistantMessage();
    const answer = message.querySelector(".answer");
    const status = message.querySelector(".answer-status");
    const body = {
      messages: [...conversation, { role: "user", content: question }],
      stream: true,
    };
    if (filters) body.filters = filters;
    if ($("answerer").value) body.model = $("answerer").value;
    let response;
    try {
      response = await apiFetch("/v1/chat/completions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      fail(message, "Request failed: " + error.message);
      return;
    }
    if (!response.ok) {
      fail(message, await errorMessage(response));
      return;
    }
    let streamed = "";
    let final = null;
    try {
      for await (const data of sseData(response)) {
        if (data === "[DONE]") break;
        const event = JSON.parse(data);
        if (event.error) throw new Error(event.error.message);
        const choice = (event.choices || [])[0] || {};
        if (choice.delta && choice.delta.content) {
          streamed += choice.delta.content;
          answer.textContent = streamed;
          status.textContent = "Answering… (checking citations when done)";
        }
        if (choice.finish_reason) final = event;
      }
    } catch (error) {
      fail(message, "The answer stream broke: " + error.message);
      return;
    }
    if (!final) {
      fail(message, "The answer stream ended early.");
      return;
    }
    // The final chunk carries the verified answer: show it, not the raw deltas.
    renderFinal(message, final, streamed);
    conversation.push(
      { role: "user", content: question },
      { role: "assistant", content: final.answer ?? streamed },
    );
    await BriefQAHistory.save(question, { ...final, answer: final.answer ?? streamed });
  }

  // An answer's bubble, source cards and signals, from a final chunk or a saved turn.
  function renderFinal(message, final, streamed) {
    const answer = message.querySelector(".answer");
    const status = message.querySelector(".answer-status");
    const citations = final.citations || [];
    const shown = renderBubble(answer, final, streamed);
    if (citations.length) message.insertBefore(renderSources(citations, shown), status);
    renderStatus(status, final);
    message.classList.add(final.abstained ? "abstained" : final.grounded ? "grounded" : "unverified");
    message.removeAttribute("aria-busy");
  }

  // A saved conversation, shown as it was answered; follow-ups continue it.
  function showConversation(saved) {
    clearChat();
    if (!saved) return;
    $("empty-hint")?.remove();
    for (const turn of saved.messages) {
      addUserMessage(turn.question, null);
      renderFinal(addAssistantMessage(), turn, turn.answer);
      conversation.push(
        { role: "user", content: turn.question },
        { role: "assistant", content: turn.answer },
      );
    }
    const messages = $("messages");
    messages.scrollTop = messages.scrollHeight;
  }

  async function submitQuestion(event) {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || busy) return;
    busy = true;
    $("ask-button").disabled = true;
    $("question").value = "";
    try {
      await ask(question);
    } finally {
      busy = false;
      $("ask-button").disabled = false;
      $("question").focus();
      const messages = $("messages");
      messages.scrollTop = messages.scrollHeight;
    }
  }

  let emptyHint = null; // the empty chat's hint and examples, put back by "New chat"

  function clearChat() {
    conversation = [];
    $("messages").replaceChildren(...(emptyHint ? [emptyHint] : []));
    closeViewer();
  }

  // "New chat": the next answer starts a new saved conversation.
  function newChat() {
    BriefQAHistory.start();
    clearChat();
    BriefQAHistory.refresh();
  }

  async function loadAnswerers() {
    const response = await apiFetch("/v1/models");
    if (!response.ok) return;
    const models = (await response.json()).data || [];
    const fallback = models.find((m) => m.default);
    const label = fallback ? `server default (${fallback.id})` : "server default";
    fillSelect($("answerer"), label, models.map((m) => m.id));
  }

  function init() {
    emptyHint = $("empty-hint");
    bindDrawer();
    BriefQADocPage.init({
      documents: () => documents,
      editForm,
      remove: deleteDocument,
      open: (docId) => {
        window.location.hash = "";
        openDocument(docId, null);
      },
    });
    BriefQA.bindKeyForm(() =>
      loadDocuments()
        .then(loadAnswerers)
        .then(() => BriefQAHistory.refresh()),
    );
    $("ask-form").addEventListener("submit", submitQuestion);
    $("question").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    $("new-chat").addEventListener("click", newChat);
    $("upload-form").addEventListener("submit", uploadDocument);
    bindDropZone();
    for (const id of ["filter-from", "filter-to", "filter-undated", "filter-source"]) {
      $(id).addEventListener("change", updateUndatedNote);
    }
    $("viewer-close").addEventListener("click", closeViewer);
    $("doc-filter").addEventListener("input", renderDocuments);
    $("doc-sort").addEventListener("change", renderDocuments);
    $("filter-clear").addEventListener("click", () => {
      $("filter-source").value = "";
      $("filter-from").value = "";
      $("filter-to").value = "";
      $("filter-undated").checked = false;
      updateUndatedNote();
    });
    // One after the other: a 401 on the first asks for the key once, the rest then have it.
    loadDocuments()
      .then(loadAnswerers)
      .then(() => BriefQAHistory.init(showConversation, () => busy || conversation.length > 0));
  }

  init();
})();
