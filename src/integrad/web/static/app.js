// integrad's web view: sends the forms as JSON and puts the server's fragments in place.
// The server escapes every string in the fragments it sends; text that this script shows
// itself (errors, warnings, table cells) is set with textContent, never as HTML.
"use strict";

(function () {
  const NUMBERS = new Set([
    "n_steps", "tol", "noise", "max_evals", "max_new_tokens", "min_abs_delta", "min_error",
  ]);

  // The named controls of `box` as a request: empty ones left out, numbers as numbers,
  // and only the setting the chosen method uses (steps for fixed rules, tol for adaptive).
  function settingsOf(box, skipSides) {
    const out = {};
    for (const el of box.querySelectorAll("[name]")) {
      if (skipSides && el.closest("fieldset.side")) continue;
      if (el.value === "") continue;
      out[el.name] = NUMBERS.has(el.name) ? Number(el.value) : el.value;
    }
    if ("method" in out) {
      delete out[out.method === "adaptive" ? "n_steps" : "tol"];
    }
    if (out.noise === 0) delete out.noise;
    return out;
  }

  // Show the steps box for fixed rules and the tolerance box for adaptive integration.
  function followMethod(box) {
    const method = box.querySelector("select[name=method]");
    if (!method) return;
    const update = () => {
      const adaptive = method.value === "adaptive";
      for (const el of box.querySelectorAll(".field.steps")) el.hidden = adaptive;
      for (const el of box.querySelectorAll(".field.tol")) el.hidden = !adaptive;
    };
    method.addEventListener("change", update);
    update();
  }

  // With several models, choosing one offers its own classes as targets.
  function followModel(box) {
    const model = box.querySelector("select[name=model]");
    const target = box.querySelector("select[name=target]");
    if (!model || !target) return;
    model.addEventListener("change", () => {
      const labels = JSON.parse(model.selectedOptions[0].dataset.labels || "[]");
      const first = target.options[0];
      target.replaceChildren(first);
      for (const label of labels) {
        const option = document.createElement("option");
        option.value = label;
        option.textContent = label;
        target.appendChild(option);
      }
    });
  }

  function showError(message) {
    const box = document.querySelector(".error");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }

  function warningsList(warnings) {
    const list = document.createElement("ul");
    list.className = "warnings";
    for (const w of warnings || []) {
      const item = document.createElement("li");
      item.textContent = w;
      list.appendChild(item);
    }
    return list;
  }

  async function send(form, body) {
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector(".status");
    button.disabled = true;
    status.textContent = "working…";
    showError("");
    const started = performance.now();
    try {
      const response = await fetch(form.dataset.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      if (!response.ok) {
        showError(data.error || "the request failed (" + response.status + ")");
        status.textContent = "";
        return null;
      }
      status.textContent = "done in " + ((performance.now() - started) / 1000).toFixed(1) + " s";
      return data;
    } catch (err) {
      showError("the server could not be reached: " + err);
      status.textContent = "";
      return null;
    } finally {
      button.disabled = false;
    }
  }

  function show(target, data) {
    target.innerHTML = data.html; // escaped by the server
    if (data.warnings && data.warnings.length) target.prepend(warningsList(data.warnings));
  }

  // Submitting with Ctrl+Enter (or Cmd+Enter) in the text box.
  function submitOnCtrlEnter(form) {
    const text = form.querySelector("textarea");
    if (!text) return;
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
  }

  function explainPage(form) {
    const result = document.getElementById("result");
    const pinned = document.getElementById("pinned");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await send(form, settingsOf(form, false));
      if (!data) return;
      show(result, data);
      const pin = document.createElement("button");
      pin.type = "button";
      pin.className = "pin";
      pin.textContent = "Pin to compare with the next one";
      result.prepend(pin);
    });
    result.addEventListener("click", (event) => {
      if (!event.target.matches("button.pin")) return;
      const panel = result.querySelector("article");
      if (!panel) return;
      pinned.replaceChildren();
      const head = document.createElement("div");
      head.className = "pinned-head";
      const label = document.createElement("span");
      label.textContent = "Pinned";
      const unpin = document.createElement("button");
      unpin.type = "button";
      unpin.className = "unpin";
      unpin.textContent = "Unpin";
      head.append(label, unpin);
      pinned.append(head, panel.cloneNode(true));
      pinned.hidden = false;
      event.target.remove();
      document.querySelector(".results").classList.add("with-pin");
    });
    pinned.addEventListener("click", (event) => {
      if (!event.target.matches("button.unpin")) return;
      pinned.replaceChildren();
      pinned.hidden = true;
      document.querySelector(".results").classList.remove("with-pin");
    });
  }

  function comparePage(form) {
    const result = document.getElementById("result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = settingsOf(form, true);
      for (const side of form.querySelectorAll("fieldset.side")) {
        body[side.dataset.side] = settingsOf(side, false);
      }
      const data = await send(form, body);
      if (data) show(result, data);
    });
  }

  function generatePage(form) {
    const result = document.getElementById("result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await send(form, settingsOf(form, false));
      if (data) show(result, data);
    });
    // A generated token's button shows the context colored by that token's scores.
    result.addEventListener("click", (event) => {
      const button = event.target.closest("button.gen-token");
      if (!button) return;
      const panel = button.closest(".generation");
      for (const b of panel.querySelectorAll("button.gen-token")) {
        b.classList.toggle("selected", b === button);
      }
      for (const view of panel.querySelectorAll(".gen-context")) {
        view.hidden = view.dataset.row !== button.dataset.row;
      }
    });
  }

  // The run page: filters, sorting and paging are done by the server; this fills the table.
  function rowsPage(form) {
    const table = document.querySelector("table.rows tbody");
    const info = document.querySelector(".page-info");
    const prev = document.querySelector(".pager .prev");
    const next = document.querySelector(".pager .next");
    const limit = 50;
    let offset = 0;
    let total = 0;

    // Filters and page live in the address, so going back from a row returns here.
    const start = new URLSearchParams(location.search);
    for (const el of form.querySelectorAll("[name]")) {
      if (start.has(el.name)) el.value = start.get(el.name);
    }
    offset = Number(start.get("offset") || 0);

    function cell(row, text, className) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      row.appendChild(td);
      return td;
    }

    function fmt(value, digits, exp) {
      if (value === null || value === undefined) return "—";
      return exp ? Number(value).toExponential(digits) : Number(value).toFixed(digits);
    }

    async function load() {
      const params = new URLSearchParams();
      for (const el of form.querySelectorAll("[name]")) {
        if (el.value !== "") params.set(el.name, el.value);
      }
      params.set("offset", offset);
      params.set("limit", limit);
      history.replaceState(null, "", "?" + params.toString());
      showError("");
      const status = form.querySelector(".status");
      status.textContent = "loading…";
      const response = await fetch(form.dataset.endpoint + "?" + params.toString());
      const data = await response.json();
      status.textContent = "";
      if (!response.ok) {
        showError(data.error);
        return;
      }
      total = data.total;
      table.replaceChildren();
      for (const r of data.rows) {
        const tr = document.createElement("tr");
        const href = form.dataset.run + "/rows/" + r.row;
        tr.dataset.href = href;
        tr.className = r.status === "ok" ? "" : "failed";
        const first = document.createElement("td");
        const link = document.createElement("a");
        link.href = href;
        link.textContent = r.row;
        first.appendChild(link);
        tr.appendChild(first);
        cell(tr, r.id === null ? "" : String(r.id));
        cell(tr, r.status);
        const failed = (r.text ? r.text + " — " : "") + "not explained: " + (r.error || "");
        cell(tr, r.status === "ok" ? r.text : failed, "text");
        cell(tr, r.predicted_label || "");
        cell(tr, fmt(r.probability, 3), "num");
        cell(tr, fmt(r.delta === null ? null : Math.abs(r.delta), 1, true), "num");
        cell(tr, fmt(r.error_estimate, 1, true), "num");
        cell(tr, r.n_evals === null ? "—" : String(r.n_evals), "num");
        table.appendChild(tr);
      }
      const last = Math.min(offset + limit, total);
      info.textContent = total ? `rows ${offset + 1}–${last} of ${total}` : "no rows match";
      prev.disabled = offset === 0;
      next.disabled = last >= total;
      const sort = form.elements.sort.value;
      for (const b of document.querySelectorAll("button.sort")) {
        const on = b.dataset.sort === sort;
        b.classList.toggle("active", on);
        b.dataset.direction = on ? (form.elements.descending.value ? "↓" : "↑") : "";
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      offset = 0;
      load();
    });
    for (const button of document.querySelectorAll("button.sort")) {
      button.addEventListener("click", () => {
        const same = form.elements.sort.value === button.dataset.sort;
        const bigFirst = ["abs_delta", "error_estimate", "probability", "n_evals"];
        const descending = same
          ? !form.elements.descending.value
          : bigFirst.includes(button.dataset.sort);
        form.elements.sort.value = button.dataset.sort;
        form.elements.descending.value = descending ? "1" : "";
        offset = 0;
        load();
      });
    }
    prev.addEventListener("click", () => { offset = Math.max(0, offset - limit); load(); });
    next.addEventListener("click", () => { offset += limit; load(); });
    table.addEventListener("click", (event) => {
      const tr = event.target.closest("tr");
      if (tr && !event.target.closest("a")) location.href = tr.dataset.href;
    });
    load();
  }

  const pages = {
    "explain-form": explainPage,
    "compare-form": comparePage,
    "generate-form": generatePage,
    "rows-form": rowsPage,
  };
  for (const [id, setup] of Object.entries(pages)) {
    const form = document.getElementById(id);
    if (!form) continue;
    const sides = form.querySelectorAll("fieldset.side");
    for (const box of sides.length ? sides : [form]) {
      followMethod(box);
      followModel(box);
    }
    submitOnCtrlEnter(form);
    setup(form);
  }
})();
