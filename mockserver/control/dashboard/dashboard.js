// The emma-mock dashboard: reads everything from /__admin, polls /__admin/changes, never holds a connection.
// Every piece of data is put in the page as text (never as HTML): the journal shows what any client sent.
// It reads only the page of state it shows (accounts, types, members, a member's touchpoints), never the
// whole state but for "Download state"; the curl lines it offers to copy are built in builders.js, and a
// pytest test is the server's export (/__admin/requests/export), copied or saved as it was sent.

import { curlLine, entryCurl, entryRequest, hasDotSegment, parseExact, pathAccount, queryString } from "./builders.js";

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
  clock: null, clockAt: 0, operations: [], filter: "" };

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

/** JSON.stringify writes NaN and Infinity as null: a field the browser could not read is refused, not sent. */
function finite(key, value) {
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`'${key}' is not a number`);
  return value;
}

/** A control API call; its JSON answer (numbers kept exact), or with `raw` the Response itself (bytes as sent). */
async function admin(method, path, body, raw = false) {
  const headers = {};
  if (token) headers["X-Admin-Token"] = token;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body, finite);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/__admin/${path}`, init);
  if (raw && response.ok) return response;
  const answer = await response.text();
  const data = (() => { try { return parseExact(answer); } catch { return null; } })();
  if (response.status === 401) {
    askForToken(token ? "That token was refused; check MOCKSERVER_ADMIN_TOKEN." : "");
    throw new Locked("locked");
  }
  if (!response.ok) {
    const said = data && typeof data.error === "string" ? data.error : answer.trim().slice(0, 500);
    throw new Error(said ? `${said} (HTTP ${response.status})` : `HTTP ${response.status}`);
  }
  return data;
}

/** Run `work`, then say `done` (or what `done` makes of work's result); an error is said instead. */
async function act(work, done) {
  try {
    const result = await work();
    if (done) toast(typeof done === "function" ? done(result) : done);
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
      const fresh = await admin("GET", `requests?after=${seen.requests}${view.filter}`);
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
  const options = (chosen) => accounts.map((account) => el("option",
    { value: idText(account.account_id), selected: idText(account.account_id) === chosen },
    `${idText(account.account_id)} ${account.name ?? ""}`));
  $("#account").replaceChildren(...options(view.account));
  const tryAccount = $("#try-account");
  const tried = tryAccount.options.length ? tryAccount.value : view.account; // kept across reloads
  tryAccount.replaceChildren(...options(tried), el("option", { value: "" }, "no credentials"));
  if (tried && ![...tryAccount.options].some((option) => option.value === tried)) {
    tryAccount.append(el("option", { value: tried }, tried));
  }
  tryAccount.value = tried ?? "";
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
  const problem = el("p", { class: "error copy-error", role: "alert" });
  return el("div", { class: "detail" },
    el("div", { class: "actions" },
      el("button", { type: "button", class: "small copy-curl", onclick: () => copy(curl, "curl command copied") },
        "Copy as curl"),
      el("button", { type: "button", class: "small copy-pytest", onclick: () => copyTest(entry, problem) },
        "Copy as a pytest test"),
      el("button", { type: "button", class: "small open-try", onclick: () => openInTry(entry, account) },
        "Open in try it")),
    problem,
    el("pre", { class: "code curl", "data-curl": curl }, curl),
    el("div", { class: "sides" },
      el("div", {}, el("h4", {}, "Request"), el("pre", { class: "code" }, headersText(entry.headers)),
        el("pre", { class: "code request-body" }, pretty(entry.body))),
      el("div", {}, el("h4", {}, `Response ${entry.status ?? "(dropped)"}`),
        el("pre", { class: "code" }, headersText(entry.response_headers)),
        el("pre", { class: "code response-body" }, pretty(entry.response_body)))));
}

/** The export of the session up to this entry (docs/control-api.md), copied as the server wrote it. */
async function copyTest(entry, problem) {
  problem.textContent = "";
  try {
    const module = await admin("GET", `requests/export?until=${text(entry.id)}`, undefined, true);
    await copy(await module.text(), `pytest test up to request ${text(entry.id)} copied`);
  } catch (error) {
    if (error instanceof Locked) return;
    problem.textContent = `No test: ${error.message}`;
    toast(problem.textContent, true);
  }
}

/** The whole session as one pytest module, saved as the server sent it. */
function downloadSession() {
  return act(() => save("requests/export", "test_emma_mock_session.py"), (name) => `Session saved as ${name}`);
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
      el("time", { class: "muted", title: "The mock's clock at this request (frozen or real, see above)" },
        entry.time.slice(3).replace("T", " "))));
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.opened) return;
    details.dataset.opened = "true";
    details.append(entryDetail(entry, await keysOf(pathAccount(entry.path))));
  });
  item.append(details);
  return item;
}

/** The journal's filter as the query `/__admin/requests` takes (the server matches, globs included). */
function journalFilter() {
  const query = {};
  for (const [name, id] of [["method", "#filter-method"], ["path", "#filter-path"], ["status", "#filter-status"]]) {
    const value = $(id).value.trim();
    if (value) query[name] = value;
  }
  return query;
}

/** Show only the entries the filter matches: the list is read again, then kept up to date as usual. */
function applyFilter() {
  const query = journalFilter();
  $("#filter-error").textContent = "";
  if (query.status !== undefined && !/^[0-9]{3}$/.test(query.status)) {
    $("#filter-error").textContent = "Status: a three-digit HTTP status, such as 404.";
    return;
  }
  const filter = queryString(query).replace("?", "&");
  refresh(async () => {
    let entries;
    try {
      entries = await admin("GET", `requests${filter.replace("&", "?")}`);
    } catch (error) {
      if (!(error instanceof Locked)) $("#filter-error").textContent = error.message;
      return;
    }
    view.filter = filter;
    view.journal = [];
    $("#journal").replaceChildren();
    addEntries(entries);
    seen.requests = Math.max(seen.requests, ...entries.map((entry) => entry.id));
  });
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
  $("#journal-empty").textContent = view.filter ? "No request matches the filter."
    : "No API request yet. Send one (see the curl line) and it appears here.";
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
  $("#journal-clock").textContent = clock.frozen
    ? `Times: the mock's clock, frozen now at ${clock.now} (each entry shows the clock as it was then; UTC).`
    : "Times: the mock's clock, now real time (UTC); a frozen clock shows in the entries made while it was.";
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

const INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/** The limits of a fault's fields as the server's OpenAPI document states them (absent: the server checks). */
function faultLimits() {
  const fields = view.doc?.components?.schemas?.FaultInput?.properties ?? {};
  const delay = (fields.delay_ms?.anyOf ?? [])[0] ?? {};
  return { status: [fields.status?.minimum ?? 100, fields.status?.maximum ?? 599], delayMax: delay.maximum ?? Infinity,
    pathMax: fields.path?.maxLength ?? Infinity };
}

/** Each filled field of the fault form read and checked: [spec, {field: what is wrong}]. */
function faultSpec() {
  const spec = {};
  const wrong = {};
  const limits = faultLimits();
  const value = (name) => $(`#fault-${name}`).value.trim();
  const integer = (name, low, high, why) => {
    const typed = value(name);
    if (!typed) return;
    const number = Number(typed);
    if (!INTEGER.test(typed) || !Number.isSafeInteger(number) || number < low || number > high) wrong[name] = why;
    else spec[name] = number;
  };
  if (value("method")) spec.method = value("method");
  if (value("path")) {
    if (value("path").length > limits.pathMax) wrong.path = `At most ${limits.pathMax} characters.`;
    else spec.path = value("path");
  }
  const [low, high] = limits.status;
  integer("status", low, high, `An HTTP status: a whole number from ${low} to ${high}.`);
  if (value("delay")) {
    const parts = value("delay").replace(/^\[|\]$/g, "").split(",").map((part) => part.trim());
    const numbers = parts.map(Number);
    if (parts.length > 2 || !parts.every((part) => DECIMAL.test(part))
        || !numbers.every((n) => n >= 0 && n <= limits.delayMax) || numbers[0] > numbers[numbers.length - 1]) {
      wrong.delay = `Milliseconds: a number, or "min, max" (min ≤ max)${Number.isFinite(limits.delayMax)
        ? `, from 0 to ${limits.delayMax}` : ""}.`;
    } else spec.delay_ms = numbers.length === 1 ? numbers[0] : numbers;
  }
  if (value("action")) spec.action = value("action");
  integer("times", 1, Number.MAX_SAFE_INTEGER, "A whole number from 1 (leave it empty for always).");
  if (value("probability")) {
    const number = Number(value("probability"));
    if (!DECIMAL.test(value("probability")) || !(number >= 0 && number <= 1)) wrong.probability = "A number from 0 to 1.";
    else spec.probability = number;
  }
  integer("seed", -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "A whole number (the same seed, the same draws).");
  if (value("body")) {
    try {
      spec.body = parseExact(value("body"));
    } catch (error) {
      wrong.body = `Not JSON: ${error.message}`;
    }
  }
  if (!Object.keys(wrong).length && spec.status === undefined && spec.delay_ms === undefined && !spec.action) {
    wrong.status = "Give a status, a delay or an action: a fault does at least one.";
  }
  return [spec, wrong];
}

/** Shows each field's problem beside it (and marks it invalid); true when there is none. */
function showFieldErrors(wrong) {
  for (const node of $("#fault-form").querySelectorAll(".field-error")) {
    const name = node.id.replace(/^fault-|-error$/g, "");
    node.textContent = wrong[name] ?? "";
    $(`#fault-${name}`).setAttribute("aria-invalid", wrong[name] ? "true" : "false");
  }
  const first = Object.keys(wrong)[0];
  if (first) $(`#fault-${first}`).focus();
  return !first;
}

async function addFault() {
  const [spec, wrong] = faultSpec();
  $("#fault-error").textContent = "";
  if (!showFieldErrors(wrong)) return;
  try {
    const fault = await admin("POST", "faults", spec);
    toast(`Fault ${text(fault.id)} added`);
    await poll(false);
  } catch (error) {
    if (!(error instanceof Locked)) $("#fault-error").textContent = `Not added: ${error.message}`;
  }
}

/** Save what `path` answers as a file, byte for byte (no JSON round trip that would round an id past 2^53),
 *  named as the server's Content-Disposition says, else `fallback`. */
async function save(path, fallback) {
  const response = await admin("GET", path, undefined, true);
  const named = /filename="([^"\\/]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const name = named ? named[1] : fallback;
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  return name;
}

function downloadState() {
  return act(() => save("state", "emma-mock-state.json"), "State downloaded");
}

function wireControls() {
  const reset = () => act(() => admin("POST", "reset"), "Reset to the fixtures");
  $("#reset").addEventListener("click", reset);
  $("#reset-2").addEventListener("click", reset);
  $("#clear-journal").addEventListener("click", () => act(() => admin("DELETE", "requests"), "Journal cleared"));
  $("#download-state").addEventListener("click", downloadState);
  $("#download-session").addEventListener("click", downloadSession);
  let filterTimer = null;
  const filterSoon = () => { clearTimeout(filterTimer); filterTimer = setTimeout(applyFilter, 250); };
  $("#journal-filter").addEventListener("input", filterSoon);
  $("#journal-filter").addEventListener("reset", filterSoon);
  $("#journal-filter").addEventListener("submit", (event) => { event.preventDefault(); applyFilter(); });
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
  $("#fault-form").addEventListener("submit", (event) => { event.preventDefault(); addFault(); });
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
    el("option", { value: index }, `${op.method} ${op.path} — ${op.operation.summary}`)),
  el("option", { value: ANY }, "Any request — method, path and query as typed"));
  fillTry();
}

const ANY = "any"; // the try-it choice that sends a method and path as typed (a journal entry opens there)

function fillTry() {
  const any = $("#try-op").value === ANY;
  $("#try-request").hidden = !any;
  if (any) {
    $("#try-params").replaceChildren();
    $("#try-body").hidden = false;
    $("#try-body-label").hidden = false;
    return;
  }
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

/** A journal entry in "try it": its method, path with query, account and body, ready to send again. */
async function openInTry(entry, account) {
  const request = entryRequest(entry, "", account);
  $("#try-op").value = ANY;
  fillTry();
  $("#try-method").value = request.method;
  $("#try-path").value = request.url;
  $("#try-type").value = request.contentType ?? "";
  $("#try-body").value = request.body === null ? "" : pretty(entry.body);
  const id = pathAccount(entry.path);
  const select = $("#try-account");
  const value = request.user === null || id === null ? "" : String(id);
  if (![...select.options].some((option) => option.value === value)) select.append(el("option", { value }, value));
  select.value = value;
  $("#try-panel").scrollIntoView({ block: "start" });
  $("#try-method").focus({ preventScroll: true });
  toast(`Request ${text(entry.id)} is in "try it": change it or send it`);
}

/** What "try it" sends: the chosen operation with its parameters, or the typed method and path. */
function tryRequest() {
  if ($("#try-op").value === ANY) {
    const path = $("#try-path").value.trim();
    const body = $("#try-body").value;
    return { method: $("#try-method").value.trim().toUpperCase() || "GET",
      path: path.startsWith("/") ? path : `/${path}`, body: body === "" ? undefined : body,
      contentType: $("#try-type").value.trim() || null };
  }
  const op = view.operations[Number($("#try-op").value)];
  let path = op.path;
  const query = {};
  for (const input of $("#try-params").querySelectorAll("input")) {
    if (input.dataset.in === "path") path = path.replace(`{${input.name}}`, encodeURIComponent(input.value));
    else if (input.value !== "") query[input.name] = input.value;
  }
  return { method: op.method, path: path + queryString(query),
    body: op.body === undefined ? undefined : $("#try-body").value, contentType: "application/json" };
}

async function sendTry() {
  const sent = tryRequest();
  const path = sent.path;
  const url = location.origin + path;
  const headers = {};
  const request = { method: sent.method, url };
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
  const init = { method: sent.method, headers, credentials: "omit", cache: "no-store" };
  if (sent.body !== undefined) {
    init.body = sent.body;
    if (sent.contentType !== null) headers["Content-Type"] = sent.contentType;
    Object.assign(request, { contentType: sent.contentType, body: init.body });
  }
  $("#try-curl").textContent = curlLine(request);
  if (hasDotSegment(path)) { // fetch would send another path (`/100/../__admin/reset` becomes `/__admin/reset`)
    $("#try-status").textContent = "Not sent: a browser removes '.' and '..' segments from a path, so it would "
      + "request another one. Send it with the curl line below (it keeps the path as it is).";
    $("#try-status").className = statusClass(400);
    $("#try-duration").textContent = "";
    $("#try-headers").textContent = "";
    $("#try-response").textContent = "";
    $("#try-result").hidden = false;
    return;
  }
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
