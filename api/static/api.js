// Shared by the chat and eval pages: the API key, authenticated fetches, small DOM helpers.
// Everything that came from the server (documents, answers, reports) is inserted as text,
// never as markup: documents are untrusted.
"use strict";

const BriefQA = (() => {
  const KEY_STORAGE = "briefqa.apiKey";

  function getKey() {
    try {
      return localStorage.getItem(KEY_STORAGE) || "";
    } catch {
      return "";
    }
  }

  function setKey(key) {
    try {
      if (key) localStorage.setItem(KEY_STORAGE, key);
      else localStorage.removeItem(KEY_STORAGE);
    } catch {
      // storage disabled: the key lives only as long as the page
    }
    window.dispatchEvent(new CustomEvent("briefqa:key"));
  }

  function authHeaders(extra) {
    const headers = new Headers(extra || {});
    const key = getKey();
    if (key) headers.set("Authorization", "Bearer " + key);
    return headers;
  }

  // One dialog for all requests refused at once (the page loads several things in parallel).
  let keyPrompt = null;

  // The key dialog, built once here so every page shares the same markup.
  function keyDialog() {
    let dialog = document.getElementById("key-dialog");
    if (dialog) return dialog;
    const el = (tag, props = {}, children = []) => {
      const node = Object.assign(document.createElement(tag), props);
      node.append(...children);
      return node;
    };
    dialog = el("dialog", { id: "key-dialog" }, [
      el("form", { method: "dialog" }, [
        el("p", { id: "key-dialog-message" }),
        el("label", { htmlFor: "key-dialog-input", textContent: "API key" }),
        el("input", {
          id: "key-dialog-input",
          type: "password",
          spellcheck: false,
          autocomplete: "off",
        }),
        el("div", { className: "dialog-buttons" }, [
          el("button", {
            value: "cancel",
            formNoValidate: true,
            className: "secondary",
            textContent: "Cancel",
          }),
          el("button", { id: "key-dialog-ok", value: "ok", textContent: "Use key" }),
        ]),
      ]),
    ]);
    document.body.append(dialog);
    return dialog;
  }

  function askForKey(message) {
    if (keyPrompt) return keyPrompt;
    const dialog = keyDialog();
    const input = document.getElementById("key-dialog-input");
    if (typeof dialog.showModal !== "function") return Promise.resolve(false);
    keyPrompt = new Promise((resolve) => {
      document.getElementById("key-dialog-message").textContent = message;
      input.value = "";
      dialog.returnValue = "";
      dialog.addEventListener(
        "close",
        () => {
          keyPrompt = null;
          const key = input.value.trim();
          if (dialog.returnValue === "ok" && key) {
            setKey(key);
            resolve(true);
          } else {
            resolve(false);
          }
        },
        { once: true },
      );
      dialog.showModal();
      input.focus();
    });
    return keyPrompt;
  }

  // fetch() with the key; on 401 ask for a key and retry (bodies here are strings or Files,
  // so they can be sent again).
  async function apiFetch(path, options = {}) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
      if (response.status === 401) window.dispatchEvent(new CustomEvent("briefqa:auth"));
      if (response.status !== 401 || attempt >= 3) return response;
      const message = getKey()
        ? "The server refused this API key. Enter a valid key."
        : "This server needs an API key.";
      if (!(await askForKey(message))) return response;
    }
  }

  async function errorMessage(response) {
    let detail = "";
    try {
      const body = await response.json();
      // FastAPI's {"detail": ...}, or OpenAI's {"error": {"message": ...}} (chat completions)
      const raw = body.error?.message ?? body.detail;
      detail = typeof raw === "string" ? raw : JSON.stringify(raw);
    } catch {
      detail = response.statusText;
    }
    const hint = response.status === 403 ? " (this key may not do that)" : "";
    return `${response.status}: ${detail || "request failed"}${hint}`;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // The header's key field: shows whether a key is stored, saves or clears it; ``onSaved``
  // reloads the page's data with the new key. It takes no room on a server without auth: it
  // appears once a request is refused (401) or when a key is already stored.
  function bindKeyForm(onSaved) {
    const form = document.getElementById("key-form");
    if (!form) return;
    const label = el("label", null, "API key");
    label.htmlFor = "api-key";
    const input = Object.assign(el("input"), {
      id: "api-key", type: "password", placeholder: "not set", spellcheck: false,
    });
    const status = Object.assign(el("span", "muted"), { id: "key-status" });
    const save = Object.assign(el("button", null, "Save"), { type: "submit" });
    form.replaceChildren(label, input, save, status);
    const show = () => {
      input.value = getKey();
      status.textContent = getKey() ? "key saved" : "no key";
      if (getKey()) form.hidden = false;
    };
    window.addEventListener("briefqa:auth", () => {
      form.hidden = false;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setKey(input.value.trim());
      if (onSaved) onSaved();
    });
    window.addEventListener("briefqa:key", show);
    show();
  }

  return { apiFetch, askForKey, errorMessage, el, getKey, setKey, bindKeyForm };
})();
