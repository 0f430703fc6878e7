// The emma-mock dashboard: reads everything from /__admin, polls /__admin/changes, never holds a connection.
// Every piece of data is put in the page as text (never as HTML): the journal shows what any client sent.

const TOKEN_KEY = "emma-mock-admin-token";
const POLL_MS = 600;
const PAGE = 5; // rows per page of the data tables (start/end like the API)
const JOURNAL_SHOWN = 1000;

const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let locked = false;
let timer = null;
const seen = { state: null, requests: 0, controls: null, cleared: null };
const view = { state: null, account: null, pages: {}, journal: [], clock: null, clockAt: 0, operations: [] };

class Locked extends Error {}

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
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
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

async function admin(method, path, body) {
  const headers = {};
  if (token) headers["X-Admin-Token"] = token;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/__admin/${path}`, init);
  const data = await response.json().catch(() => null);
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
  view.state = null;
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
    if (changes.state !== seen.state || !view.state) {
      const state = await admin("GET", "state");
      seen.state = changes.state;
      view.state = state;
      renderState();
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

// --- state ------------------------------------------------------------------------------

function accountKeys(accountId) {
  const accounts = view.state ? view.state.accounts : [];
  return accounts.find((account) => account.account_id === accountId);
}

function renderState() {
  const { accounts } = view.state;
  if (!accounts.some((account) => account.account_id === view.account)) {
    view.account = accounts.length ? accounts[0].account_id : null;
  }
  for (const select of [$("#account"), $("#try-account")]) {
    select.replaceChildren(...accounts.map((account) =>
      el("option", { value: account.account_id, selected: account.account_id === view.account },
        `${account.account_id} ${account.name}`)));
  }
  $("#accounts").replaceChildren(accounts.length ? el("table", { class: "accounts" },
    el("thead", {}, el("tr", {}, ["Account", "Name", "Public key", "Private key"].map((h) => el("th", {}, h)))),
    el("tbody", {}, accounts.map((account) => {
      const line = `curl -u ${account.public_key}:${account.private_key} ${location.origin}/${account.account_id}/touchpoints`;
      return [el("tr", { class: "keys" },
        el("td", {}, account.account_id), el("td", {}, account.name),
        el("td", {}, el("code", {}, account.public_key)), el("td", {}, el("code", {}, account.private_key))),
      el("tr", {}, el("td", { colspan: 4, class: "curl-cell" },
        el("button", { type: "button", class: "small", "aria-label": `Copy the curl line of account ${account.account_id}`,
          onclick: () => copy(line) }, "Copy"), " ", el("code", { class: "curl-line" }, line)))];
    }))) : el("p", { class: "muted" }, "No accounts: upload a state with at least one."));
  renderData();
  const accountInput = $("#try-params input[name=account_id]");
  if (accountInput && !accountInput.value) accountInput.value = view.account ?? "";
}

function pager(key, rows, columns, render) {
  const total = rows.length;
  let start = Math.min(view.pages[key] || 0, Math.max(0, Math.floor((total - 1) / PAGE) * PAGE));
  view.pages[key] = start;
  const end = Math.min(start + PAGE, total);
  const go = (to) => () => { view.pages[key] = to; renderData(); };
  return el("div", { class: "paged", id: `${key}-page` },
    el("table", {}, el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
      el("tbody", {}, total ? rows.slice(start, end).map(render)
        : el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "none")))),
    el("div", { class: "pager" },
      el("button", { type: "button", class: "small", disabled: start === 0, onclick: go(start - PAGE),
        "aria-label": `Previous page of ${key}` }, "‹ prev"),
      el("span", { class: "muted" }, total ? `start=${start} end=${end} of ${total}` : "0 items"),
      el("button", { type: "button", class: "small", disabled: end >= total, onclick: go(start + PAGE),
        "aria-label": `Next page of ${key}` }, "next ›")));
}

function renderData() {
  const state = view.state;
  const id = view.account;
  const mine = (record) => record.account_id === id;
  // In the API's own order: types oldest first (ties by id); members and touchpoints by id.
  const types = state.touchpoint_types.filter(mine).sort((a, b) =>
    a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.touchpoint_type_id - b.touchpoint_type_id);
  const members = state.members.filter(mine);
  const touchpoints = state.touchpoints.filter(mine);
  const typeName = new Map(types.map((t) => [t.touchpoint_type_id, t.type_name]));
  const email = new Map(members.map((m) => [m.member_id, m.email]));
  const perMember = new Map();
  for (const t of touchpoints) perMember.set(t.member_id, (perMember.get(t.member_id) || 0) + 1);
  $("#types").replaceChildren(pager("types", types, ["Id", "Type name", "Display name", "Created"],
    (t) => el("tr", {}, el("td", {}, t.touchpoint_type_id), el("td", {}, el("code", {}, t.type_name)),
      el("td", {}, t.display_name), el("td", {}, t.created_at))));
  $("#members").replaceChildren(pager("members", members, ["Id", "Email", "Status", "Touchpoints"],
    (m) => el("tr", {}, el("td", {}, m.member_id), el("td", {}, m.email), el("td", {}, m.status ?? ""),
      el("td", {}, perMember.get(m.member_id) || 0))));
  $("#touchpoints").replaceChildren(pager("touchpoints", touchpoints, ["Id", "Member", "Type", "Timestamp"],
    (t) => el("tr", {}, el("td", {}, t.touchpoint_id), el("td", {}, email.get(t.member_id) ?? t.member_id),
      el("td", {}, typeName.get(t.touchpoint_type_id) ?? t.touchpoint_type_id), el("td", {}, t.touchpoint_timestamp))));
}

// --- journal ----------------------------------------------------------------------------

function statusClass(status) {
  return status === null ? "status s0" : `status s${String(status)[0]}`;
}

function queryString(query) {
  const pairs = [];
  for (const [name, value] of Object.entries(query || {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(one)}`);
    }
  }
  return pairs.length ? `?${pairs.join("&")}` : "";
}

function pathUrl(path) {
  return path.split("/").map((part) => encodeURIComponent(part)).join("/");
}

function header(headers, name) {
  const found = Object.keys(headers || {}).find((key) => key.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

function shellQuote(text) {
  return /^[A-Za-z0-9_@%+=:,./?&-]+$/.test(text) ? text : `'${String(text).replace(/'/g, "'\\''")}'`;
}

function bodyText(body) {
  return typeof body === "string" ? body : JSON.stringify(body);
}

/** The replay's credentials: the account's real keys (masked in the journal), or placeholders. */
function replayAuth(entry) {
  if (header(entry.headers, "authorization") === undefined) return null;
  const match = /^\/([0-9]+)(\/|$)/.exec(entry.path);
  const account = match && accountKeys(Number(match[1]));
  if (!account || entry.status === 401) return { accountId: null, keys: "PUBLIC:PRIVATE" };
  return { accountId: account.account_id, keys: `${account.public_key}:${account.private_key}` };
}

function entryCurl(entry) {
  const words = ["curl", "-sS"];
  words.push(...(entry.method === "HEAD" ? ["-I"] : ["-X", entry.method]));
  const auth = replayAuth(entry);
  if (auth) words.push("-u", shellQuote(auth.keys));
  const type = header(entry.headers, "content-type");
  if (type) words.push("-H", shellQuote(`Content-Type: ${type}`));
  if (entry.body !== null) words.push("--data-binary", shellQuote(bodyText(entry.body)));
  words.push(shellQuote(location.origin + pathUrl(entry.path) + queryString(entry.query)));
  return words.join(" ");
}

/** A JSON value as a Python literal. */
function py(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(py).join(", ")}]`;
  return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${py(item)}`).join(", ")}}`;
}

function entryPytest(entry) {
  const name = `${entry.method} ${entry.path}`.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
  const args = [`        ${JSON.stringify(entry.method)}, emma_mock.url + ${JSON.stringify(pathUrl(entry.path))},`];
  if (Object.keys(entry.query || {}).length) args.push(`        params=${py(entry.query)},`);
  const auth = replayAuth(entry);
  if (auth) {
    args.push(auth.accountId === null ? `        auth=("PUBLIC", "PRIVATE"),`
      : `        auth=emma_mock.auth_for(${auth.accountId}),`);
  }
  if (entry.body !== null) {
    const type = header(entry.headers, "content-type");
    if (type) args.push(`        headers={"Content-Type": ${JSON.stringify(type)}},`);
    args.push(`        data=${JSON.stringify(bodyText(entry.body))},`);
  }
  let check;
  if (entry.response_body === null) check = `    assert response.content == b""`;
  else if (typeof entry.response_body === "string" && !/json/.test(header(entry.response_headers, "content-type") || "")) {
    check = `    assert response.text == ${JSON.stringify(entry.response_body)}`;
  } else check = `    assert response.json() == ${py(entry.response_body)}`;
  return ["import requests", "", "",
    `def test_replay_${name || "request"}(emma_mock):`,
    "    response = requests.request(", ...args, "        timeout=10,", "    )",
    `    assert response.status_code == ${entry.status === null ? "None  # the connection was dropped" : entry.status}`,
    check, ""].join("\n");
}

function pretty(value) {
  if (value === null || value === undefined) return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function headersText(headers) {
  const lines = Object.entries(headers || {}).map(([name, value]) => `${name}: ${value}`);
  return lines.length ? lines.join("\n") : "(none)";
}

function entryDetail(entry) {
  const curl = entryCurl(entry);
  const test = entryPytest(entry);
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
      el("span", { class: "muted duration" }, `${entry.duration_ms} ms`),
      el("time", { class: "muted" }, entry.time.slice(3).replace("T", " "))));
  details.addEventListener("toggle", () => {
    if (details.open && !details.querySelector(".detail")) details.append(entryDetail(entry));
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
  $("#rate-now").textContent = rate ? `${rate.requests} requests per ${rate.per_seconds} s per account` : "none";
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

function downloadState() {
  return act(async () => {
    const state = await admin("GET", "state");
    const link = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(state, null, 2)],
      { type: "application/json" })), download: "emma-mock-state.json" });
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
    view.account = Number(event.target.value);
    view.pages = {};
    $("#try-account").value = event.target.value;
    renderData();
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
  const words = ["curl", "-sS", "-X", op.method];
  if (path.startsWith("/__admin")) {
    if (token) {
      headers["X-Admin-Token"] = token;
      words.push("-H", '"X-Admin-Token: $MOCKSERVER_ADMIN_TOKEN"');
    }
  } else {
    const account = accountKeys(Number($("#try-account").value));
    if (account) {
      headers.Authorization = `Basic ${btoa(`${account.public_key}:${account.private_key}`)}`;
      words.push("-u", shellQuote(`${account.public_key}:${account.private_key}`));
    }
  }
  const init = { method: op.method, headers, credentials: "omit", cache: "no-store" };
  if (op.body !== undefined) {
    init.body = $("#try-body").value;
    headers["Content-Type"] = "application/json";
    words.push("-H", "'Content-Type: application/json'", "--data-binary", shellQuote(init.body));
  }
  words.push(shellQuote(url));
  $("#try-curl").textContent = words.join(" ");
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
