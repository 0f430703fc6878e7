// Pure builders of the lines the dashboard offers to copy: shell words and curl lines, and the exact
// reading of the journal they are made from (a pytest test is the server's export, not built here).
// No DOM and no requests here: the browser tests run these functions on generated inputs and run the
// lines they make in bash.

/** Characters a POSIX shell reads as themselves in a word: no quote, glob, expansion, operator or `~`. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text that can be written out as UTF-8: each lone surrogate (half a character) becomes U+FFFD. */
export function wellFormed(text) {
  return String(text).replace(LONE_SURROGATE, "\uFFFD");
}

/**
 * One word for a POSIX shell: as it is when every character is plain, else inside single quotes,
 * where nothing is special but the quote itself (written '\''). A word holding a PASTE_UNSAFE
 * character (a header value may hold a tab or a C1 control) is printed by printf from escapes, so the
 * pasted line holds none: `"$(printf %b '...')"`, its trailing line feeds (which the substitution
 * would drop) quoted after it. A shell word cannot hold NUL: a NUL shows as U+FFFD (curlLine keeps a
 * body's NULs by piping it in).
 */
export function shellWord(text) {
  const word = wellFormed(text).replaceAll("\0", "\uFFFD");
  if (PASTE_UNSAFE.test(word)) {
    const [, head, feeds] = word.match(/^([\s\S]*?)(\n*)$/);
    return `"$(printf %b ${singleQuoted(printfBytes(head))})"` + (feeds ? singleQuoted(feeds) : "");
  }
  return PLAIN.test(word) ? word : singleQuoted(word);
}

function singleQuoted(word) {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Characters a terminal or a line editor acts on when they are pasted (NUL, tab, carriage return, the
 *  other C0 controls, DEL, C1: an escape sequence, or a Ctrl-U that erases the line typed so far and
 *  leaves the rest outside its quotes). A body holding one is piped in, written as printf escapes. */
const PASTE_UNSAFE = /[\0-\x09\x0b-\x1f\x7f-\x9f]/;
const PASTE_UNSAFE_ALL = new RegExp(PASTE_UNSAFE.source, "g");

/** printf %b's argument that prints `text` exactly: a backslash doubled, each PASTE_UNSAFE character as
 *  the octal escapes of its UTF-8 bytes (`\0033`), so the line pasted holds none of them. */
function printfBytes(text) {
  return wellFormed(text).replaceAll("\\", "\\\\").replace(PASTE_UNSAFE_ALL, (char) => Array.from(
    new TextEncoder().encode(char), (byte) => `\\0${byte.toString(8).padStart(3, "0")}`).join(""));
}

/**
 * The words of a curl command that sends this request, and what it reads on standard input (or null).
 * `request`: { method, url, user ("public:private", or null), contentType (null: curl sends none),
 * body (text, or null), adminToken (true: the X-Admin-Token header from $MOCKSERVER_ADMIN_TOKEN) }.
 * --path-as-is keeps `..` segments, -g keeps brackets, --data-raw never reads a file for a leading `@`
 * (a body with NUL or another PASTE_UNSAFE character is read from standard input instead),
 * and every value sits after its option, so a leading `-` is never read as an option.
 */
export function curlCommand({ method = "GET", url, user = null, contentType = null, body = null }) {
  const words = ["curl", "-sS", "-g", "--path-as-is"];
  if (method === "HEAD" && body === null) words.push("-I"); // -X HEAD would wait for a body
  else if (method !== "GET" || body !== null) words.push("-X", method);
  if (user !== null) words.push("-u", user);
  if (contentType !== null) words.push("-H", `Content-Type: ${contentType}`);
  else if (body !== null) words.push("-H", "Content-Type:"); // the request had none: drop curl's form type
  let stdin = null;
  if (body !== null && PASTE_UNSAFE.test(body)) {
    words.push("--data-binary", "@-");
    stdin = body;
  } else if (body !== null) {
    words.push("--data-raw", body);
  }
  words.push("--url", url);
  return { words, stdin };
}

/** The curl command as one line to paste into a POSIX shell: it runs curl with exactly those words. */
export function curlLine(request) {
  const { words, stdin } = curlCommand(request);
  let line = words.map(shellWord).join(" ");
  if (request.adminToken) line = line.replace(/^curl /, `curl -H "X-Admin-Token: $MOCKSERVER_ADMIN_TOKEN" `);
  return stdin === null ? line : `printf %b ${shellWord(printfBytes(stdin))} | ${line}`;
}

// --- the journal's entries ---------------------------------------------------------------------

/** JSON as the server wrote it: a number that a JavaScript number would change (an id past 2^53,
 *  1.0, 1e+30) is kept as its own text, which JSON.stringify writes back as it came. */
export function parseExact(text) {
  if (typeof JSON.rawJSON !== "function") return JSON.parse(text);
  return JSON.parse(text, (key, value, context) => (typeof value === "number" && context
    && JSON.stringify(value) !== context.source ? JSON.rawJSON(context.source) : value));
}

export function queryString(query) {
  const pairs = [];
  for (const [name, value] of Object.entries(query || {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      pairs.push(`${encodeURIComponent(wellFormed(name))}=${encodeURIComponent(wellFormed(one))}`);
    }
  }
  return pairs.length ? `?${pairs.join("&")}` : "";
}

/** A journal path as a URL path: each segment percent-encoded, `.` and `..` kept (see --path-as-is). */
export function pathUrl(path) {
  return path.split("/").map((part) => encodeURIComponent(wellFormed(part))).join("/");
}

/** Whether a path has a `.` or `..` segment (`%2e` too): a browser resolves those away before sending, so the page
 * cannot send such a path as it is; curl can (--path-as-is). */
export function hasDotSegment(path) {
  const route = path.split("?", 1)[0];
  return route.split("/").some((part) => /^(\.|%2e){1,2}$/i.test(part));
}

export function header(headers, name) {
  const found = Object.keys(headers || {}).find((key) => key.toLowerCase() === name);
  return found === undefined ? null : headers[found];
}

export function bodyText(body) {
  return typeof body === "string" ? body : JSON.stringify(body);
}

/** The account a journal path names (`/100/...`), or null. */
export function pathAccount(path) {
  const match = /^\/([0-9]{1,18})(\/|$)/.exec(path);
  return match ? Number(match[1]) : null;
}

/** The replay's credentials: the account's keys (masked in the journal), placeholders, or null (none sent). */
function replayKeys(entry, account) {
  if (header(entry.headers, "authorization") === null) return null;
  if (!account || entry.status === 401) return "PUBLIC:PRIVATE";
  return `${account.public_key}:${account.private_key}`;
}

/** The curl request of a journal entry; `account`: the keys of the account its path names, or null. */
export function entryRequest(entry, origin, account) {
  return { method: entry.method, url: origin + pathUrl(entry.path) + queryString(entry.query),
    user: replayKeys(entry, account), contentType: header(entry.headers, "content-type"),
    body: entry.body === null ? null : bodyText(entry.body) };
}

export function entryCurl(entry, origin, account) {
  return curlLine(entryRequest(entry, origin, account));
}
