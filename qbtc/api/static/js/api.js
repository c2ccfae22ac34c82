// REST and WebSocket access with the desk's token (asked once, kept for this tab).
const TOKEN_KEY = "qbtc.token";
const meta = JSON.parse(document.querySelector('meta[name="qbtc-api"]')?.content || "{}");
let token = sessionStorage.getItem(TOKEN_KEY);

/** True when the API needs a token (QBTC_API_TOKEN is set on the server). */
export const tokenRequired = Boolean(meta.token_required);
/** GET paths the API serves (so the page never probes for a route that is not there). */
export const routes = new Set(meta.routes || []);

export class ApiError extends Error {
  constructor(path, status, detail) {
    super(`${path}: ${status} ${detail}`);
    this.status = status;
  }
}

function headers() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** JSON of a GET; throws ApiError with the API's one-line message on an error status. */
export async function getJSON(path, params) {
  const query = params ? "?" + new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")
  ) : "";
  const response = await fetch(path + query, { headers: headers(), cache: "no-cache" });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new ApiError(path, response.status, detail);
  }
  return response.json();
}

/** Text of a GET (an HTML tear sheet, say), with the token. */
export async function getText(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-cache" });
  if (!response.ok) throw new ApiError(path, response.status, response.statusText);
  return response.text();
}

/** Every item of a paged list (`items`, `next_offset`; `pick` finds the page), up to `max`. */
export async function getAll(path, params = {}, { max = 5000, pick = (body) => body } = {}) {
  const items = [];
  let offset = 0;
  while (offset !== null && items.length < max) {
    const page = pick(await getJSON(path, { ...params, limit: 1000, offset }));
    items.push(...page.items);
    offset = page.next_offset;
  }
  return items;
}

/** Ask for the token until one works (only when the API needs one). */
export async function ensureToken(check) {
  if (!tokenRequired) return;
  if (token && await check().then(() => true, () => false)) return;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  const error = document.getElementById("token-error");
  for (;;) {
    dialog.showModal();
    input.focus();
    await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
    token = input.value.trim();
    if (token && await check().then(() => true, () => false)) {
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = "";
      return;
    }
    error.textContent = "That token was refused. Check QBTC_API_TOKEN and try again.";
  }
}

/**
 * A WebSocket stream that reconnects with backoff. `onFrame(message)` gets each frame,
 * `onState(open)` each change of the connection.
 */
export function openStream(channel, onFrame, onState) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/${channel}`;
  let delay = 500;
  let closed = false;
  let socket;
  const connect = () => {
    socket = token ? new WebSocket(url, ["bearer", token]) : new WebSocket(url);
    socket.onopen = () => { delay = 500; onState(true); };
    socket.onmessage = (event) => onFrame(JSON.parse(event.data));
    socket.onclose = () => {
      onState(false);
      if (!closed) setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  };
  connect();
  return { close() { closed = true; socket.close(); } };
}
