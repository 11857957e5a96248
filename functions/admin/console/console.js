// fxcrm back office console: plain JS, no build step. It calls the admin API
// with the staff token (kept in this tab's sessionStorage only). Server data is
// always inserted as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("fxcrm.staff") || "", pending: "", user: null, selected: null };

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

async function api(method, path, body, token) {
  const headers = { Authorization: `Bearer ${token || state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!reply.ok) {
    const error = new Error((data && data.message) || `${reply.status} ${reply.statusText}`);
    error.status = reply.status;
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function show(section) {
  for (const id of ["login", "new-password", "mfa", "queue", "users", "audit"]) $(id).hidden = id !== section;
  for (const tab of document.querySelectorAll("button.tab")) tab.classList.toggle("active", tab.dataset.view === section);
}

function age(seconds) {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

// The API answers times as "YYYY-MM-DD HH:MM:SS" (broker time zone); numbers are epoch seconds.
function when(t) { return typeof t === "string" ? t : t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) : ""; }

function badge(status) { return el("span", status, { class: `badge ${status}` }); }

// ------------------------------------------------------------------ login

async function captchaHeaders() {
  const provider = document.body.dataset.captchaProvider;
  const randstr = Math.random().toString(16).slice(2, 14);
  if (provider === "local") {
    const reply = await fetch(`/_dev/captcha?randstr=${randstr}`);
    const { ticket } = await reply.json();
    return { "Captcha-Token": ticket, "Captcha-Randstr": randstr, "Captcha-Action": "login" };
  }
  return new Promise((resolve, reject) => {
    // Tencent Cloud captcha (TCaptcha.js, loaded on demand)
    const script = el("script", null, { src: "https://turing.captcha.qcloud.com/TCaptcha.js" });
    script.onload = () => new window.TencentCaptcha(document.body.dataset.captchaAppId, (res) => {
      if (res.ret === 0) resolve({ "Captcha-Token": res.ticket, "Captcha-Randstr": res.randstr, "Captcha-Action": "login" });
      else reject(new Error("the captcha was not solved"));
    }).show();
    script.onerror = () => reject(new Error("the captcha could not load"));
    document.head.append(script);
  });
}

async function logIn(email, password) {
  const headers = { "Content-Type": "application/json", ...(await captchaHeaders()) };
  const reply = await fetch("/auth/login", { method: "POST", headers, body: JSON.stringify({ email, password }) });
  const data = await reply.json();
  if (!reply.ok) throw new Error(data.message || "login failed");
  if (data.user_info.user_type !== "staff") throw new Error("this console is for staff accounts");
  state.pending = data.token;
  state.user = data.user_info;
  if (data.user_info.must_change_password) {
    // a one-time password (the bootstrap's first admin): replaced before anything else
    state.oneTime = { email, password };
    show("new-password");
    $("password-form").new_password.focus();
    return;
  }
  await startMfa();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const form = new FormData(event.target);
  try {
    await logIn(form.get("email"), form.get("password"));
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("password-error").textContent = "";
  const chosen = event.target.new_password.value;
  if (chosen !== event.target.repeat.value) {
    $("password-error").textContent = "The two passwords differ.";
    return;
  }
  try {
    const { email, password } = state.oneTime;
    await api("POST", "/auth/password", { old_password: password, new_password: chosen }, state.pending);
    state.oneTime = null;
    event.target.reset();
    await logIn(email, chosen);  // the change ended the one-time password's token
  } catch (error) {
    $("password-error").textContent = error.message;
  }
});

async function startMfa() {
  show("mfa");
  $("mfa-error").textContent = "";
  const status = await api("GET", "/auth/totp", undefined, state.pending);
  $("enrol").hidden = status.enrolled;
  $("mfa-form").dataset.mode = status.enrolled ? "verify" : "activate";
  if (!status.enrolled) {
    const enrolment = await api("POST", "/auth/totp/enrolment", undefined, state.pending);
    $("qr").src = enrolment.qr_svg;
    $("secret").textContent = enrolment.secret;
  }
  $("mfa-form").code.focus();
}

$("mfa-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("mfa-error").textContent = "";
  const code = event.target.code.value.trim();
  try {
    if (event.target.dataset.mode === "activate") {
      const done = await api("POST", "/auth/totp/activation", { code }, state.pending);
      const list = $("recovery-codes");
      list.replaceChildren(...done.recovery_codes.map((c) => el("li", c)));
      $("mfa-form").hidden = true;
      $("enrol").hidden = true;
      $("recovery").hidden = false;
      state.next = done;
    } else {
      enter(await api("POST", "/auth/totp/verification", { code }, state.pending));
    }
  } catch (error) {
    $("mfa-error").textContent = error.message;
  }
});

$("recovery-done").addEventListener("click", () => enter(state.next));

function enter(session) {
  state.token = session.token;
  state.user = session.user_info;
  sessionStorage.setItem("fxcrm.staff", state.token);
  $("nav").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = session.user_info.email;
  show("queue");
  loadQueue();
}

$("logout").addEventListener("click", () => { sessionStorage.removeItem("fxcrm.staff"); location.reload(); });

for (const tab of document.querySelectorAll("button.tab")) {
  tab.addEventListener("click", () => {
    show(tab.dataset.view);
    if (tab.dataset.view === "queue") loadQueue();
    if (tab.dataset.view === "audit") loadAudit();
  });
}

// ------------------------------------------------------------------ approvals

function describe(item) {
  const s = item.summary || {};
  if (s.amount) return `${s.amount} USD${s.remittance ? ` → ${s.remittance}` : ""}`;
  if (s.trading_account_type_name) return `${s.trading_platform} ${s.trading_account_type_name}, 1:${s.leverage}`;
  if (s.full_name !== undefined) return `${s.full_name}, ${s.country}${s.duplicates && s.duplicates.length ? " · possible duplicate" : ""}`;
  return "";
}

async function loadQueue() {
  $("queue-error").textContent = "";
  const params = new URLSearchParams({ status: $("status").value, size: "100" });
  if ($("kind").value) params.set("kind", $("kind").value);
  try {
    const data = await api("GET", `/admin/approvals?${params}`);
    const rows = data.list.map((item) => {
      const row = el("tr", null, { "data-id": String(item.id) });
      row.append(el("td", item.kind.replace("_", " ")), el("td", item.email), el("td", describe(item)), el("td", age(item.age_seconds || 0)));
      const status = el("td"); status.append(badge(item.status)); row.append(status);
      row.addEventListener("click", () => openItem(item.id, row));
      return row;
    });
    $("queue-rows").replaceChildren(...rows);
    if (!rows.length) {
      const empty = el("tr");
      empty.append(el("td", "Nothing here.", { colspan: "5" }));
      $("queue-rows").append(empty);
    }
  } catch (error) {
    $("queue-error").textContent = error.message;
  }
}

$("refresh").addEventListener("click", loadQueue);
$("kind").addEventListener("change", loadQueue);
$("status").addEventListener("change", loadQueue);

async function openItem(id, row) {
  for (const r of document.querySelectorAll("#queue-rows tr")) r.classList.remove("selected");
  if (row) row.classList.add("selected");
  $("decision-error").textContent = "";
  $("decision-notice").textContent = "";
  try {
    const item = await api("GET", `/admin/approvals/${id}`);
    state.selected = item;
    $("detail").hidden = false;
    $("detail-title").textContent = `${item.kind.replace("_", " ")} ${item.summary.order_number || item.id}`;
    const fields = [["Status", item.status], ["Client", item.email], ["KYC", item.kyc_status], ["Submitted", when(item.created_at)]];
    for (const [key, value] of Object.entries(item.summary)) {
      if (key === "receipt_key" || key === "receipt_type" || key === "receipt_version") continue;
      fields.push([key.replaceAll("_", " "), shown(key, value)]);
    }
    if (item.first_approved_by_email) fields.push(["First approval", `${item.first_approved_by_email} at ${when(item.first_approved_at)}`]);
    if (item.decided_by_email) fields.push(["Decided by", `${item.decided_by_email} at ${when(item.decided_at)}`]);
    if (item.reason) fields.push(["Reason", item.reason]);
    $("detail-fields").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
    const receipt = $("receipt");
    receipt.replaceChildren();
    if (item.receipt_link) {
      const isPdf = item.summary.receipt_type === "application/pdf";
      receipt.append(el("h3", "Receipt"), isPdf ? el("iframe", null, { src: item.receipt_link, title: "receipt" }) : el("img", null, { src: item.receipt_link, alt: "receipt" }));
    }
    if (item.kind === "kyc") await showKyc(item.user_id, receipt);
    const open = item.status === "waiting";
    $("approve").disabled = !open;
    $("reject").disabled = !open;
  } catch (error) {
    $("queue-error").textContent = error.message;
  }
}

function shown(key, value) {
  if (key === "duplicates") {
    if (!value.length) return "none found";
    return value.map((d) => `same ${d.what === "identity" ? "name, birthday and country" : d.field.replaceAll("_", " ")} as user ${d.user_ids.join(", ")}`).join("; ");
  }
  return typeof value === "object" && value !== null ? Object.values(value).join(" · ") : value;
}

// The client's KYC answers and documents (5-minute links), for a KYC review.
async function showKyc(userId, into) {
  const kyc = await api("GET", `/admin/users/${userId}/kyc`);
  const answers = [];
  for (const [module, values] of Object.entries(kyc.kyc_data)) {
    if (!values || Array.isArray(values) || module === "e_verify") continue;
    for (const [key, value] of Object.entries(values)) {
      if (typeof value === "string" && value.startsWith("kyc/")) continue;  // a document: shown below
      answers.push(el("dt", `${module} · ${key.replaceAll("_", " ")}`), el("dd", String(value)));
    }
  }
  const list = el("dl", null, { id: "kyc-answers" });
  list.append(...answers);
  into.append(el("h3", "KYC answers"), list, el("h3", "Documents"));
  for (const [name, link] of Object.entries(kyc.document_links)) {
    const figure = el("figure", null, { class: "document" });
    figure.append(el("figcaption", name.replace(".", " · ").replaceAll("_", " ")), el("img", null, { src: link, alt: name }), el("a", "open", { href: link, target: "_blank", rel: "noopener noreferrer" }));
    into.append(figure);
  }
}

async function decide(decision) {
  const item = state.selected;
  const reason = $("decision").reason.value.trim();
  $("decision-error").textContent = "";
  $("decision-notice").textContent = "";
  if (decision === "reject" && !reason) {
    $("decision-error").textContent = "Say why: the client sees the reason.";
    return;
  }
  try {
    const after = await api("POST", `/admin/approvals/${item.id}/decision`, { decision, reason: reason || null });
    $("decision").reason.value = "";
    await loadQueue();
    await openItem(item.id);  // the item as it is now (this clears the messages)
    $("decision-notice").textContent = after.status === "waiting" && after.first_approved_by_email
      ? "First approval recorded; a second staff member must approve."
      : `Done: ${after.status}.`;
  } catch (error) {
    $("decision-error").textContent = error.message;
  }
}

$("approve").addEventListener("click", () => decide("approve"));
$("reject").addEventListener("click", () => decide("reject"));

// ------------------------------------------------------------------ clients and IBs

$("user-search").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("users-error").textContent = "";
  const form = new FormData(event.target);
  const params = new URLSearchParams({ user_type: form.get("user_type") });
  if (form.get("email")) params.set("email", form.get("email"));
  try {
    const data = await api("GET", `/admin/users?${params}`);
    $("user-rows").replaceChildren(...data.list.map((u) => {
      const row = el("tr");
      row.append(el("td", u.email), el("td", u.full_name || [u.first_name, u.last_name].filter(Boolean).join(" ")), el("td", u.user_type), el("td", u.status), el("td", u.ib_id || ""));
      row.addEventListener("click", () => openUser(u.id));
      return row;
    }));
  } catch (error) {
    $("users-error").textContent = error.message;
  }
});

async function openUser(id) {
  const box = $("user-detail");
  box.hidden = false;
  box.replaceChildren(el("p", "Loading…"));
  try {
    const d = await api("GET", `/admin/users/${id}`);
    const fields = [["Email", d.user.email], ["Name", d.user.full_name || "—"], ["Type", `${d.user.user_type} (${d.user.role})`], ["Status", d.user.status], ["KYC", d.kyc_status], ["IB", d.user.ib_id || "none"]];
    const dl = el("dl");
    dl.append(...fields.flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
    const accounts = el("ul");
    accounts.append(...d.accounts.map((a) => el("li", `${a.server} #${a.login} · ${a.type_name} · 1:${a.leverage}`)));
    const orders = el("ul");
    orders.append(...d.orders.map((o) => el("li", `${o.order_number} ${o.kind} ${o.amount} ${o.currency} · ${o.status}${o.reason ? ` (${o.reason})` : ""}`)));
    const trail = el("ul");
    trail.append(...d.audit.map((e) => el("li", `${when(e.at)} ${e.actor_email}: ${e.action}`)));
    const reason = el("input", null, { placeholder: "Reason", "aria-label": "reason" });
    const toggle = el("button", d.user.status === "active" ? "Disable" : "Enable", { class: d.user.status === "active" ? "danger" : "ok" });
    const error = el("p", "", { class: "error", role: "alert" });
    toggle.addEventListener("click", async () => {
      try {
        await api("PUT", `/admin/users/${id}/status`, { status: d.user.status === "active" ? "disabled" : "active", reason: reason.value });
        openUser(id);
      } catch (e) { error.textContent = e.message; }
    });
    box.replaceChildren(el("h2", d.user.email), dl, el("h3", "Accounts"), accounts, el("h3", "Orders"), orders, el("h3", "Audit trail"), trail, reason, toggle, error);
  } catch (error) {
    box.replaceChildren(el("p", error.message, { class: "error" }));
  }
}

// ------------------------------------------------------------------ audit log

function auditParams() {
  const form = new FormData($("audit-search"));
  const params = new URLSearchParams({ day: form.get("day") || new Date().toISOString().slice(0, 10) });
  for (const key of ["actor", "action"]) if (form.get(key)) params.set(key, form.get(key));
  return params;
}

async function loadAudit() {
  $("audit-error").textContent = "";
  if (!$("audit-search").day.value) $("audit-search").day.value = new Date().toISOString().slice(0, 10);
  try {
    const data = await api("GET", `/admin/audit?${auditParams()}&size=100`);
    $("audit-rows").replaceChildren(...data.list.map((e) => {
      const row = el("tr");
      row.append(el("td", when(e.at)), el("td", e.actor_email), el("td", e.action), el("td", e.target), el("td", e.source_ip), el("td", JSON.stringify(e.after)));
      return row;
    }));
  } catch (error) {
    $("audit-error").textContent = error.message;
  }
}

$("audit-search").addEventListener("submit", (event) => { event.preventDefault(); loadAudit(); });
$("audit-export").addEventListener("click", async () => {
  try {
    const reply = await fetch(`/admin/audit/export?${auditParams()}`, { headers: { Authorization: `Bearer ${state.token}` } });
    if (!reply.ok) throw new Error((await reply.json()).message);
    const link = el("a", null, { href: URL.createObjectURL(await reply.blob()), download: `audit-${auditParams().get("day")}.csv` });
    link.click();
  } catch (error) {
    $("audit-error").textContent = error.message;
  }
});

// ------------------------------------------------------------------ start

if (state.token) {
  api("GET", "/auth/totp").then((s) => (s.mfa ? enter({ token: state.token, user_info: { email: "" } }) : show("login"))).catch(() => show("login"));
} else {
  show("login");
}
