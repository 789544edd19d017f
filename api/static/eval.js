// The eval page: every report.md under the server's eval_dir, newest first, rendered from a
// small Markdown subset straight into DOM nodes (text only, never markup), its charts beside it.
"use strict";

(() => {
  const { apiFetch, errorMessage, el } = BriefQA;
  const $ = (id) => document.getElementById(id);
  // One line per summary metric (eval/metrics.py, eval/harness.py): what a reader needs to
  // read 0.093 token F1 next to 0.545 accuracy without thinking the answers are wrong.
  const METRICS = {
    n: "questions in the gold file (split) that were asked",
    answer_accuracy:
      "answerable questions whose answer contains a gold answer (as words) and did not abstain",
    citation_precision: "share of the documents an answer cites that are gold sources",
    citation_recall: "share of the gold sources that the answer cites at least once",
    retrieval_recall_at_5: "share of gold sources among the top 5 retrieved documents",
    mrr: "1 / rank of the first gold source among retrieved documents (1.0 = ranked first)",
    abstention_accuracy: "unanswerable questions that were refused, as they should be",
    false_abstention_rate: "answerable questions wrongly refused (lower is better)",
    support_rate: "answer sentences whose quotes back them (quote verification)",
    latency_p50_s: "median seconds per question",
    latency_p95_s: "95th-percentile seconds per question (the slow tail)",
    token_f1:
      "word overlap of the whole answer with the gold answer; low by design, since answers " +
      "quote a full sentence while gold answers are a few words",
    exact_match:
      "whole answer equals a gold answer; near 0 by design for quoted-sentence answers",
    squad_em: "SQuAD 2.0 exact match of the short answer (an abstention is right when unanswerable)",
    squad_f1: "SQuAD 2.0 word-overlap F1 of the short answer, with the same abstention rule",
    hasans_f1: "SQuAD 2.0 F1 over answerable questions only",
    noans_accuracy: "SQuAD 2.0 score over unanswerable questions only (refusing is right)",
    mean_confidence: "average calibrated confidence the service reported for its answers",
    answer_tier_precision:
      "of the answers given at or above the answer threshold, the share that are right",
    guess_share: "share of questions answered with a labelled best guess (below the threshold)",
    guess_precision: "of the best guesses, the share that are right",
    errors: "questions that failed with an error (counted as wrong)",
  };

  // "(dev split)" / "(test split)" in the report's gold line, else null.
  function splitOf(markdown) {
    const match = /^- gold: .*\((dev|test)[^)]*\)/m.exec(markdown);
    return match ? match[1] : null;
  }

  const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*)|(!?\[[^\]]*\]\([^)\s]*\))/g;

  function filePath(report, src) {
    const clean = src.replace(/^\.\//, "");
    return report.name === "." ? clean : `${report.name}/${clean}`;
  }

  // Charts come through the API (so the key applies) and are shown from blob: URLs.
  function chart(path) {
    const figure = el("figure", "chart");
    const img = el("img");
    img.alt = path;
    img.dataset.path = path;
    figure.append(img, el("figcaption", "muted", path));
    const url = "/v1/eval/files/" + path.split("/").map(encodeURIComponent).join("/");
    apiFetch(url)
      .then((response) => (response.ok ? response.blob() : Promise.reject(response.status)))
      .then((blob) => {
        img.src = URL.createObjectURL(blob);
      })
      .catch((status) => figure.append(el("span", "error", ` could not load (${status})`)));
    return figure;
  }

  function inline(text, report, referenced) {
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
      const token = match[0];
      if (match[1]) {
        nodes.push(el("code", null, token.slice(1, -1)));
      } else if (match[2]) {
        nodes.push(el("strong", null, token.slice(2, -2)));
      } else if (match[3]) {
        nodes.push(el("em", null, token.slice(1, -1)));
      } else {
        const [, label, href] = token.match(/^!?\[([^\]]*)\]\(([^)]*)\)$/);
        if (token.startsWith("!")) {
          // Charts sit beside the report; here only a pointer to them.
          referenced.add(filePath(report, href));
          nodes.push(el("em", "chart-ref muted", `${label || href}: chart ${href}, beside the report`));
        } else if (/^https?:\/\//i.test(href)) {
          const link = el("a", null, label);
          link.href = href;
          link.rel = "noopener noreferrer";
          nodes.push(link);
        } else {
          nodes.push(document.createTextNode(label));
        }
      }
      last = match.index + token.length;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  function cells(line) {
    return line
      .trim()
      .replace(/^\|/, "")
      .replace(/(?<!\\)\|$/, "")
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, "|"));
  }

  function table(lines, report, referenced) {
    const node = el("table");
    const rows = lines.filter((line) => !/^\s*\|?\s*:?-{2,}/.test(line));
    const explained = rows.length && cells(rows[0])[0] === "metric";
    rows.forEach((line, i) => {
      const row = el("tr");
      const values = cells(line);
      if (explained) values.push(i === 0 ? "what it measures" : METRICS[values[0]] || "");
      values.forEach((cell, c) => {
        const td = el(i === 0 ? "th" : "td");
        if (explained && c === values.length - 1 && i > 0) td.className = "explain muted";
        else if (/^-?[\d.]+%?$/.test(cell)) td.className = "num";
        td.append(...inline(cell, report, referenced));
        row.append(td);
      });
      (i === 0 ? node.createTHead() : node.tBodies[0] || node.createTBody()).append(row);
    });
    return node;
  }

  // Blocks: headings, paragraphs, nested "-" lists, pipe tables, fenced code.
  function renderMarkdown(markdown, report, referenced) {
    const out = [];
    const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
    let paragraph = [];
    const flush = () => {
      if (paragraph.length) {
        const node = el("p");
        node.append(...inline(paragraph.join(" "), report, referenced));
        out.push(node);
      }
      paragraph = [];
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith("```")) {
        flush();
        const code = [];
        for (i += 1; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
        out.push(el("pre", null, code.join("\n")));
      } else if (/^#{1,6}\s/.test(line)) {
        flush();
        const level = line.match(/^#+/)[0].length;
        const heading = el(`h${Math.min(level + 1, 6)}`);
        heading.append(...inline(line.replace(/^#+\s*/, ""), report, referenced));
        out.push(heading);
      } else if (/^\s*\|/.test(line)) {
        flush();
        const rows = [];
        for (; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(lines[i]);
        i -= 1;
        out.push(table(rows, report, referenced));
      } else if (/^\s*[-*]\s+/.test(line)) {
        flush();
        const items = [];
        for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++) items.push(lines[i]);
        i -= 1;
        out.push(list(items, report, referenced));
      } else if (!line.trim()) {
        flush();
      } else {
        paragraph.push(line.trim());
      }
    }
    flush();
    return out;
  }

  function list(items, report, referenced) {
    const root = el("ul");
    const stack = [{ indent: -1, node: root }];
    for (const line of items) {
      const indent = line.match(/^\s*/)[0].length;
      while (stack.length > 1 && indent <= stack.at(-1).indent) stack.pop();
      let parent = stack.at(-1);
      if (indent > parent.indent + 1 && parent.node.lastElementChild) {
        const nested = el("ul");
        parent.node.lastElementChild.append(nested);
        parent = { indent: indent - 1, node: nested };
        stack.push(parent);
      }
      const item = el("li");
      item.append(...inline(line.replace(/^\s*[-*]\s+/, ""), report, referenced));
      parent.node.append(item);
    }
    return root;
  }

  function renderReport(report) {
    const section = el("article", "report");
    section.id = "report-" + report.name;
    const head = el("header", "report-head");
    head.append(el("span", "report-name", report.name === "." ? "eval-out" : report.name));
    const split = splitOf(report.markdown);
    if (split) head.append(el("span", `split-badge split-${split}`, `${split} split`));
    head.append(el("span", "muted", `${report.path} · written ${report.modified}`));
    const referenced = new Set();
    const body = el("div", "markdown");
    body.append(...renderMarkdown(report.markdown, report, referenced));
    // The charts the report names first, in its order, then any others in the folder.
    const order = [...referenced].filter((path) => report.charts.includes(path));
    const charts = el("aside", "charts");
    charts.setAttribute("aria-label", "Charts");
    for (const path of [...order, ...report.charts.filter((p) => !referenced.has(p))]) {
      charts.append(chart(path));
    }
    const columns = el("div", "report-columns");
    columns.append(body, charts);
    section.append(head, columns);
    return section;
  }

  async function load() {
    const status = $("eval-status");
    status.classList.remove("error");
    const response = await apiFetch("/v1/eval/reports");
    if (!response.ok) {
      status.classList.add("error");
      status.textContent = await errorMessage(response);
      return;
    }
    const reports = await response.json();
    status.textContent = reports.length
      ? `${reports.length} report(s), newest first.`
      : "No eval reports yet in the server's BRIEFQA_EVAL_DIR (default eval-out): run " +
        "`make eval` (or `briefqa eval ... --out DIR/NAME`).";
    const index = $("report-index");
    index.replaceChildren(
      ...reports.map((r) => {
        const split = splitOf(r.markdown);
        const name = r.name === "." ? "eval-out" : r.name;
        const link = el("a", null, split ? `${name} (${split})` : name);
        link.href = "#report-" + r.name;
        return link;
      }),
    );
    $("reports").replaceChildren(...reports.map(renderReport));
  }

  BriefQA.bindKeyForm(load);
  load();
})();
