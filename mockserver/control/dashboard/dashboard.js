// The emma-mock dashboard: reads everything from /__admin, polls /__admin/changes, never holds a connection.
// Every piece of data is put in the page as text (never as HTML): the journal shows what any client sent.
// It reads only the page of state it shows (accounts, types, members, a member's touchpoints), never the
// whole state but for "Download state"; what it offers to copy is built in builders.js.

import { curlLine, entryCurl, entryPytest, parseExact, pathAccount, queryString } from "./builders.js";

const TOKEN_KEY = "emma-mock-admin-token";
const POLL_MS = 600;
const PAGE = 5; // rows per page of the data tables (start/end like the API)
const ACCOUNTS_PAGE = 10;
const JOURNAL_SHOWN = 1000;

const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let locked = false;
let timer = null;
const seen = { state: null, requests: 0, controls: null, cleared: null };
const view = { loaded: false, accounts: [], account: null, member: null, keys: new Map(), pages: {}, journal: [],
  clock: null, clockAt: 0, operations: [] };

class Locked extends Error {}

/** A value as text: a number JSON.parse would have rounded is kept as the server wrote it (parseExact). */
function text(value) {
  return typeof JSON.isRawJSON === "function" && JSON.isRawJSON(value) ? value.rawJSON : String(value);
}

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : text(child));
  }
  return node;
}

function toast(message, bad = false) {
  const box = $("#toast");
  box.textContent = message;
  box.className = bad ? "show bad" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.className = ""; }, bad ? 6000 : 2500);
}

// --- the control API ------------------------------------------------------------------

/** A control API call; its JSON answer (numbers kept exact), or with `raw` the bytes as the server sent them. */
async function admin(method, path, body, raw = false) {
  const headers = {};
  if (token) headers["X-Admin-Token"] = token;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/__admin/${path}`, init);
  if (raw && response.ok) return response.blob();
  const data = await response.text().then(parseExact).catch(() => null);
  if (response.status === 401) {
    askForToken(token ? "That token was refused; check MOCKSERVER_ADMIN_TOKEN." : "");
    throw new Locked("locked");
  }
  if (!response.ok) throw new Error((data && data.error) || `HTTP ${response.status}`);
  return data;
}

async function act(work, done) {
  try {
    await work();
    if (done) toast(done);
    await poll(false);
  } catch (error) {
    if (!(error instanceof Locked)) toast(error.message, true);
  }
}

// --- token gate -------------------------------------------------------------------------

function askForToken(message) {
  locked = true;
  clearTimeout(timer);
  view.loaded = false;
  $("#main").hidden = true;
  $("#reset").hidden = true;
  $("#accounts").replaceChildren();
  $("#token-gate").hidden = false;
  $("#token-error").textContent = message;
  $("#live").textContent = "locked";
  $("#live").className = "pill warn";
  $("#token-input").focus();
}

function unlock(value) {
  token = value;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  locked = false;
  Object.assign(seen, { state: null, requests: 0, controls: null, cleared: null });
  view.journal = [];
  $("#journal").replaceChildren();
  $("#token-gate").hidden = true;
  poll();
}

// --- polling ----------------------------------------------------------------------------

let polls = Promise.resolve();

/** Look for changes now; polls run one after another, so an entry is never fetched twice. */
function poll(schedule = true) {
  polls = polls.then(() => pollOnce(schedule));
  return polls;
}

async function pollOnce(schedule) {
  if (schedule) clearTimeout(timer);
  try {
    const changes = await admin("GET", "changes");
    if (changes.cleared !== seen.cleared) {
      seen.cleared = changes.cleared;
      seen.requests = 0;
      view.journal = [];
      $("#journal").replaceChildren();
    }
    if (changes.state !== seen.state || !view.loaded) {
      view.keys.clear(); // an upload or reset may have changed them
      await loadAccounts();
      seen.state = changes.state;
      view.loaded = true;
    }
    if (changes.requests > seen.requests) {
      const fresh = await admin("GET", `requests?after=${seen.requests}`);
      addEntries(fresh);
      seen.requests = Math.max(changes.requests, ...fresh.map((entry) => entry.id));
    }
    if (changes.controls !== seen.controls) {
      seen.controls = changes.controls;
      await loadControls();
    }
    showMain();
    setLive(true);
  } catch (error) {
    if (error instanceof Locked) return;
    setLive(false, error.message);
  } finally {
    if (schedule && !locked) timer = setTimeout(poll, POLL_MS);
  }
}

function showMain() {
  if (!$("#main").hidden) return;
  $("#main").hidden = false;
  $("#reset").hidden = false;
  $("#forget-token").hidden = !token;
  document.body.dataset.ready = "true";
}

function setLive(ok, why = "") {
  const live = $("#live");
  live.textContent = ok ? "live" : "disconnected";
  live.className = ok ? "pill ok" : "pill bad";
  live.title = why;
}

// --- state, a page at a time ---------------------------------------------------------------

const idText = (id) => (id === null || id === undefined ? "" : text(id));

/** A page of a control API list: its total, then the rows of view.pages[key] (kept inside the list). */
async function fetchPage(path, key, size = PAGE) {
  const total = await admin("GET", `${path}?count=true`);
  const start = Math.min(view.pages[key] || 0, Math.max(0, Math.floor((total - 1) / size) * size));
  view.pages[key] = start;
  const rows = total ? await admin("GET", `${path}?start=${start}&end=${start + size}`) : [];
  return { rows, total, start, size };
}

/** Work that reads pages runs in the polls' queue, so two never interleave their rendering. */
function refresh(work) {
  polls = polls.then(work).catch((error) => {
    if (!(error instanceof Locked)) toast(error.message, true);
  });
  return polls;
}

/** The account's keys (for a journal entry's curl line): from the page shown, else asked once. */
async function keysOf(accountId) {
  if (accountId === null) return null;
  const key = String(accountId);
  const shown = view.accounts.find((account) => idText(account.account_id) === key);
  if (shown) return shown;
  if (!view.keys.has(key)) view.keys.set(key, await admin("GET", `accounts/${key}`).catch(() => null));
  return view.keys.get(key);
}

async function loadAccounts() {
  const page = await fetchPage("accounts", "accounts", ACCOUNTS_PAGE);
  view.accounts = page.rows;
  if (!view.accounts.some((account) => idText(account.account_id) === view.account)) {
    view.account = view.accounts.length ? idText(view.accounts[0].account_id) : null;
    view.member = null;
    for (const key of ["types", "members", "touchpoints"]) view.pages[key] = 0;
  }
  renderAccounts(page);
  await loadData();
}

function renderAccounts(page) {
  const accounts = page.rows;
  for (const select of [$("#account"), $("#try-account")]) {
    select.replaceChildren(...accounts.map((account) =>
      el("option", { value: idText(account.account_id), selected: idText(account.account_id) === view.account },
        `${idText(account.account_id)} ${account.name ?? ""}`)));
  }
  $("#accounts").replaceChildren(accounts.length ? el("div", {}, el("table", { class: "accounts" },
    el("thead", {}, el("tr", {}, ["Account", "Name", "Public key", "Private key"].map((h) => el("th", {}, h)))),
    el("tbody", {}, accounts.map((account) => {
      const id = idText(account.account_id);
      const line = curlLine({ url: `${location.origin}/${id}/touchpoints`,
        user: `${account.public_key}:${account.private_key}` });
      return [el("tr", { class: "keys" },
        el("td", {}, id), el("td", {}, account.name ?? ""),
        el("td", {}, el("code", {}, account.public_key)), el("td", {}, el("code", {}, account.private_key))),
      el("tr", {}, el("td", { colspan: 4, class: "curl-cell" },
        el("button", { type: "button", class: "small", "aria-label": `Copy the curl line of account ${id}`,
          onclick: () => copy(line) }, "Copy"), " ", el("code", { class: "curl-line", "data-curl": line }, line)))];
    }))), page.total > page.size ? pagerBar("accounts", page, loadAccounts) : null)
    : el("p", { class: "muted" }, "No accounts: upload a state with at least one."));
  const accountInput = $("#try-params input[name=account_id]");
  if (accountInput && !accountInput.value) accountInput.value = view.account ?? "";
}

function pagerBar(key, { total, start, size, rows }, reload) {
  const end = start + rows.length;
  const go = (to) => () => { view.pages[key] = to; refresh(reload); };
  return el("div", { class: "pager" },
    el("button", { type: "button", class: "small", disabled: start === 0, onclick: go(Math.max(0, start - size)),
      "aria-label": `Previous page of ${key}` }, "‹ prev"),
    el("span", { class: "muted" }, total ? `start=${start} end=${end} of ${total}` : "0 items"),
    el("button", { type: "button", class: "small", disabled: end >= total, onclick: go(start + size),
      "aria-label": `Next page of ${key}` }, "next ›"));
}

function pager(key, page, columns, render) {
  return el("div", { class: "paged", id: `${key}-page` },
    el("table", {}, el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
      el("tbody", {}, page.total ? page.rows.map(render)
        : el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "none")))),
    pagerBar(key, page, loadData));
}

const EMPTY = { rows: [], total: 0, start: 0, size: PAGE };

/** The shown account's types and members, and the shown member's touchpoints: one page each. */
async function loadData() {
  const id = view.account;
  if (id === null) {
    for (const key of ["types", "members", "touchpoints"]) $(`#${key}`).replaceChildren(pager(key, EMPTY, [], null));
    $("#touchpoints-of").textContent = "";
    return;
  }
  const [types, members] = await Promise.all([fetchPage(`accounts/${id}/touchpoints`, "types"),
    fetchPage(`accounts/${id}/members`, "members")]);
  if (!members.rows.some((m) => idText(m.member_id) === view.member)) {
    view.member = members.rows.length ? idText(members.rows[0].member_id) : null;
    view.pages.touchpoints = 0;
  }
  const member = view.member;
  const touchpoints = member === null ? EMPTY
    : await fetchPage(`accounts/${id}/members/${member}/touchpoints`, "touchpoints");
  const typeName = new Map(types.rows.map((t) => [idText(t.touchpoint_type_id), t.type_name]));
  $("#types").replaceChildren(pager("types", types, ["Id", "Type name", "Display name", "Created"],
    (t) => el("tr", {}, el("td", {}, t.touchpoint_type_id), el("td", {}, el("code", {}, t.type_name)),
      el("td", {}, t.display_name), el("td", {}, t.created_at))));
  $("#members").replaceChildren(pager("members", members, ["Id", "Email", "Status", "Touchpoints"],
    (m) => el("tr", { class: idText(m.member_id) === member ? "chosen" : null },
      el("td", {}, m.member_id), el("td", {}, m.email), el("td", {}, m.status ?? ""),
      el("td", {}, el("button", { type: "button", class: "small link", "data-member": idText(m.member_id),
        "aria-label": `Show the touchpoints of member ${idText(m.member_id)}`,
        onclick: () => { view.member = idText(m.member_id); view.pages.touchpoints = 0; refresh(loadData); } },
      m.touchpoint_count)))));
  const shown = members.rows.find((m) => idText(m.member_id) === member);
  $("#touchpoints-of").textContent = shown ? `of ${shown.email}` : "";
  $("#touchpoints").replaceChildren(pager("touchpoints", touchpoints, ["Id", "Type", "Timestamp", "Value"],
    (t) => el("tr", {}, el("td", {}, t.touchpoint_id),
      el("td", {}, typeName.get(idText(t.touchpoint_type_id)) ?? t.touchpoint_type_id),
      el("td", {}, t.touchpoint_timestamp), el("td", {}, t.touchpoint_monetary_value ?? ""))));
}

// --- journal ----------------------------------------------------------------------------

function statusClass(status) {
  return status === null ? "status s0" : `status s${String(status)[0]}`;
}

function pretty(value) {
  if (value === null || value === undefined) return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function headersText(headers) {
  const lines = Object.entries(headers || {}).map(([name, value]) => `${name}: ${value}`);
  return lines.length ? lines.join("\n") : "(none)";
}

function entryDetail(entry, account) {
  const curl = entryCurl(entry, location.origin, account);
  const test = entryPytest(entry, account);
  return el("div", { class: "detail" },
    el("div", { class: "actions" },
      el("button", { type: "button", class: "small copy-curl", onclick: () => copy(curl, "curl command copied") },
        "Copy as curl"),
      el("button", { type: "button", class: "small copy-pytest", onclick: () => copy(test, "pytest test copied") },
        "Copy as a pytest test")),
    el("pre", { class: "code curl", "data-curl": curl }, curl),
    el("div", { class: "sides" },
      el("div", {}, el("h4", {}, "Request"), el("pre", { class: "code" }, headersText(entry.headers)),
        el("pre", { class: "code request-body" }, pretty(entry.body))),
      el("div", {}, el("h4", {}, `Response ${entry.status ?? "(dropped)"}`),
        el("pre", { class: "code" }, headersText(entry.response_headers)),
        el("pre", { class: "code response-body" }, pretty(entry.response_body)))),
    el("details", { class: "pytest" }, el("summary", {}, "pytest test"),
      el("pre", { class: "code", "data-pytest": test }, test)));
}

function entryElement(entry) {
  const item = el("li", { "data-id": entry.id });
  const details = el("details", { class: "entry" },
    el("summary", {},
      el("span", { class: statusClass(entry.status) }, entry.status ?? "drop"),
      el("span", { class: "method" }, entry.method),
      el("span", { class: "path" }, entry.path + queryString(entry.query)),
      entry.fault !== null ? el("span", { class: "pill warn fault" }, `fault ${entry.fault}`) : null,
      el("span", { class: "muted duration" }, `${text(entry.duration_ms)} ms`),
      el("time", { class: "muted" }, entry.time.slice(3).replace("T", " "))));
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.opened) return;
    details.dataset.opened = "true";
    details.append(entryDetail(entry, await keysOf(pathAccount(entry.path))));
  });
  item.append(details);
  return item;
}

function addEntries(entries) {
  const list = $("#journal");
  for (const entry of entries) {
    if (view.journal.length && entry.id <= view.journal[view.journal.length - 1].id) continue;
    view.journal.push(entry);
    list.prepend(entryElement(entry));
  }
  while (list.children.length > JOURNAL_SHOWN) list.lastElementChild.remove();
  view.journal = view.journal.slice(-JOURNAL_SHOWN);
  $("#journal-empty").hidden = list.children.length > 0;
}

// --- clipboard --------------------------------------------------------------------------

async function copy(text, message = "Copied") {
  try {
    await navigator.clipboard.writeText(text);
    toast(message);
  } catch {
    const area = el("textarea", { class: "visually-hidden" }, text);
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    toast(ok ? message : "Copy failed: select the text and copy it by hand", !ok);
  }
}

// --- controls ---------------------------------------------------------------------------

function dateOf(text) {
  return new Date(`${text.slice(3)}Z`);
}

function formatDate(date) {
  return `@D:${date.toISOString().slice(0, 19)}`;
}

function tickClock() {
  if (!view.clock) return;
  const now = view.clock.frozen ? view.clock.now
    : formatDate(new Date(dateOf(view.clock.now).getTime() + (Date.now() - view.clockAt)));
  $("#now").textContent = now;
  $("#clock-now").textContent = now;
}

async function loadControls() {
  const [faults, clock, rate] = await Promise.all([admin("GET", "faults"), admin("GET", "clock"),
    admin("GET", "rate-limit")]);
  view.clock = clock;
  view.clockAt = Date.now();
  $("#clock-mode").textContent = clock.frozen ? "frozen" : "real time";
  $("#clock-mode").className = clock.frozen ? "pill warn" : "pill ok";
  tickClock();
  $("#rate-now").textContent = rate ? `${text(rate.requests)} requests per ${text(rate.per_seconds)} s per account` : "none";
  const show = (value) => (value === null ? "" : typeof value === "string" ? value : JSON.stringify(value));
  const columns = ["Id", "Method", "Path", "Status", "Delay ms", "Action", "Times left", "Probability", "Seed",
    "Body", "Matched", ""];
  $("#faults").replaceChildren(faults.length ? el("table", { class: "faults" },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, faults.map((f) => el("tr", { "data-fault": f.id },
      el("td", {}, f.id), el("td", {}, f.method ?? "any"), el("td", {}, f.path ?? "*"), el("td", {}, show(f.status)),
      el("td", {}, show(f.delay_ms)), el("td", {}, show(f.action)), el("td", {}, f.times === null ? "always" : f.active ? f.times : "used up"),
      el("td", {}, show(f.probability)), el("td", {}, show(f.seed)), el("td", {}, el("code", {}, show(f.body))),
      el("td", {}, f.matched),
      el("td", {}, el("button", { type: "button", class: "small", "aria-label": `Remove fault ${f.id}`,
        onclick: () => act(() => admin("DELETE", `faults/${f.id}`), `Fault ${f.id} removed`) }, "Remove"))))))
    : el("p", { class: "muted" }, "No faults: every request reaches the API."));
}

function faultSpec() {
  const spec = {};
  const value = (id) => $(id).value.trim();
  if (value("#fault-method")) spec.method = value("#fault-method");
  if (value("#fault-path")) spec.path = value("#fault-path");
  if (value("#fault-status")) spec.status = Number(value("#fault-status"));
  if (value("#fault-delay")) {
    const parts = value("#fault-delay").replace(/[[\]]/g, "").split(",").map((part) => Number(part.trim()));
    spec.delay_ms = parts.length === 1 ? parts[0] : parts;
  }
  if (value("#fault-action")) spec.action = value("#fault-action");
  if (value("#fault-times")) spec.times = Number(value("#fault-times"));
  if (value("#fault-probability")) spec.probability = Number(value("#fault-probability"));
  if (value("#fault-seed")) spec.seed = /^-?[0-9]+$/.test(value("#fault-seed")) ? Number(value("#fault-seed")) : value("#fault-seed");
  if (value("#fault-body")) {
    try {
      spec.body = JSON.parse(value("#fault-body"));
    } catch (error) {
      throw new Error(`The fault's body is not JSON: ${error.message}`);
    }
  }
  return spec;
}

/** The state as the server's bytes: no JSON round trip that would round an id past 2^53 or write 1e+30. */
function downloadState() {
  return act(async () => {
    const bytes = await admin("GET", "state", undefined, true);
    const link = el("a", { href: URL.createObjectURL(bytes), download: "emma-mock-state.json" });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }, "State downloaded");
}

function wireControls() {
  const reset = () => act(() => admin("POST", "reset"), "Reset to the fixtures");
  $("#reset").addEventListener("click", reset);
  $("#reset-2").addEventListener("click", reset);
  $("#clear-journal").addEventListener("click", () => act(() => admin("DELETE", "requests"), "Journal cleared"));
  $("#download-state").addEventListener("click", downloadState);
  $("#upload-state").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    act(async () => { await admin("PUT", "state", await file.text()); event.target.value = ""; }, `State loaded from ${file.name}`);
  });
  const submit = (id, work, message) => $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    act(work, message);
  });
  submit("#freeze-form", () => admin("PUT", "clock", { now: $("#freeze-at").value.trim() }), "Clock frozen");
  submit("#advance-form", () => admin("PUT", "clock", { advance_seconds: Number($("#advance-by").value) }), "Clock advanced");
  $("#unfreeze").addEventListener("click", () => act(() => admin("DELETE", "clock"), "Back to real time"));
  submit("#rate-form", () => admin("PUT", "rate-limit", { requests: Number($("#rate-requests").value),
    per_seconds: Number($("#rate-seconds").value) }), "Rate limit set");
  $("#rate-clear").addEventListener("click", () => act(() => admin("DELETE", "rate-limit"), "Rate limit cleared"));
  submit("#fault-form", async () => {
    const fault = await admin("POST", "faults", faultSpec());
    toast(`Fault ${fault.id} added`);
  });
  $("#faults-clear").addEventListener("click", () => act(() => admin("DELETE", "faults"), "Faults removed"));
  $("#account").addEventListener("change", (event) => {
    view.account = event.target.value;
    view.member = null;
    for (const key of ["types", "members", "touchpoints"]) view.pages[key] = 0;
    $("#try-account").value = event.target.value;
    refresh(loadData);
    fillTry();
  });
  $("#try-account").addEventListener("change", fillTry);
  $("#try-op").addEventListener("change", fillTry);
  $("#try-form").addEventListener("submit", (event) => { event.preventDefault(); sendTry(); });
  $("#token-form").addEventListener("submit", (event) => { event.preventDefault(); unlock($("#token-input").value); });
  $("#forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = "";
    askForToken("");
  });
  setInterval(tickClock, 1000);
}

// --- try it -----------------------------------------------------------------------------

function resolve(doc, node) {
  while (node && node.$ref) node = node.$ref.split("/").slice(1).reduce((at, key) => at[key], doc);
  return node || {};
}

function exampleOf(doc, schema) {
  schema = resolve(doc, schema);
  if (schema.examples) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.type === "object" || schema.properties) {
    const out = {};
    for (const name of schema.required || []) out[name] = exampleOf(doc, (schema.properties || {})[name]);
    return out;
  }
  if (schema.type === "array") return [];
  if (schema.type === "integer" || schema.type === "number") return schema.minimum ?? 1;
  if (schema.type === "boolean") return true;
  return "";
}

async function loadOpenapi() {
  const response = await fetch("/__admin/openapi.json", { credentials: "omit" });
  const doc = await response.json();
  view.doc = doc;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!operation.operationId) continue;
      const parameters = (operation.parameters || []).map((p) => resolve(doc, p));
      const content = operation.requestBody && operation.requestBody.content["application/json"];
      view.operations.push({ path, method: method.toUpperCase(), operation, parameters,
        body: content ? exampleOf(doc, content.schema) : undefined });
    }
  }
  $("#try-op").replaceChildren(...view.operations.map((op, index) =>
    el("option", { value: index }, `${op.method} ${op.path} — ${op.operation.summary}`)));
  fillTry();
}

function fillTry() {
  const op = view.operations[Number($("#try-op").value)];
  if (!op) return;
  const account = $("#try-account").value || view.account;
  $("#try-params").replaceChildren(...op.parameters.map((p) => {
    const value = p.name === "account_id" ? account : p.in === "path" ? p.example ?? "" : "";
    return el("label", {}, `${p.name} (${p.in}${p.required ? ", required" : ""})`,
      el("input", { name: p.name, "data-in": p.in, value: value ?? "", required: p.required,
        title: p.description || "" }));
  }));
  const hasBody = op.body !== undefined;
  $("#try-body").hidden = !hasBody;
  $("#try-body-label").hidden = !hasBody;
  $("#try-body").value = hasBody ? JSON.stringify(op.body, null, 2) : "";
}

async function sendTry() {
  const op = view.operations[Number($("#try-op").value)];
  let path = op.path;
  const query = {};
  for (const input of $("#try-params").querySelectorAll("input")) {
    if (input.dataset.in === "path") path = path.replace(`{${input.name}}`, encodeURIComponent(input.value));
    else if (input.value !== "") query[input.name] = input.value;
  }
  const url = location.origin + path + queryString(query);
  const headers = {};
  const request = { method: op.method, url };
  if (path.startsWith("/__admin")) {
    if (token) {
      headers["X-Admin-Token"] = token;
      request.adminToken = true; // the line reads it from $MOCKSERVER_ADMIN_TOKEN: the token is not shown
    }
  } else {
    const account = await keysOf($("#try-account").value || null);
    if (account) {
      headers.Authorization = `Basic ${btoa(`${account.public_key}:${account.private_key}`)}`;
      request.user = `${account.public_key}:${account.private_key}`;
    }
  }
  const init = { method: op.method, headers, credentials: "omit", cache: "no-store" };
  if (op.body !== undefined) {
    init.body = $("#try-body").value;
    headers["Content-Type"] = "application/json";
    Object.assign(request, { contentType: "application/json", body: init.body });
  }
  $("#try-curl").textContent = curlLine(request);
  const started = performance.now();
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: shown as text */ }
    $("#try-status").textContent = `${response.status} ${response.statusText}`;
    $("#try-status").className = statusClass(response.status);
    $("#try-duration").textContent = `${Math.round(performance.now() - started)} ms`;
    $("#try-headers").textContent = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
    $("#try-response").textContent = body || "(empty)";
  } catch (error) {
    $("#try-status").textContent = "no answer";
    $("#try-status").className = "status s0";
    $("#try-headers").textContent = "";
    $("#try-response").textContent = error.message;
  }
  $("#try-result").hidden = false;
  poll(false);
}

wireControls();
loadOpenapi().catch((error) => toast(`OpenAPI document: ${error.message}`, true));
poll();
