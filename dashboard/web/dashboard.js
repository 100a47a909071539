/* carnet dashboard: the page's logic.  Talks only to the carnet dashboard
 * process that served it (/api/...), with the secret from the address's
 * fragment; builds every element with textContent (never HTML from data:
 * app names and notes come from others). */
"use strict";
(function () {
  const I18N = window.CARNET_I18N;
  const PAGE = 200; /* timeline entries shown per step */
  const REFRESH_MS = 10000;

  const state = {
    lang: null, secret: null, status: null, consents: [], requests: [],
    delegations: [], card: null,
    log: null, names: {}, schemas: null, shown: PAGE, charts: {},
    busy: false, again: false
  };

  /* ---- small helpers ------------------------------------------------ */
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  function t(key, vars) {
    let s = I18N[state.lang][key];
    if (s === undefined) s = I18N.en[key] !== undefined ? I18N.en[key] : key;
    return s.replace(/\{(\w+)\}/g, (m, n) => vars && n in vars ? vars[n] : m);
  }
  function kindLabel(k) { return I18N[state.lang].kinds[k] || k; }
  function fmtDate(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString(state.lang === "fr" ? "fr-FR" : "en-GB",
      { dateStyle: "medium", timeStyle: "short" });
  }
  function fmtDay(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleDateString(state.lang === "fr" ? "fr-FR" : "en-GB",
      { dateStyle: "medium" });
  }
  function short(id) { return id ? id.slice(0, 10) + "…" : ""; }
  function nameOf(id) { return (id && state.names[id]) || short(id); }
  function say(msg) { $("status").textContent = msg; }

  /* ---- the API ------------------------------------------------------ */
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message); this.status = status; this.code = code;
    }
  }
  async function api(path, body) {
    const opts = { headers: { "X-Carnet-Secret": state.secret || "" } };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch("/api/" + path, opts);
    } catch (e) {
      throw new ApiError(0, "dashboard_down", String(e));
    }
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    if (!r.ok || !j || j.error) {
      const err = (j && j.error) || {};
      throw new ApiError(r.status, err.code || "http_" + r.status,
        err.message || r.statusText);
    }
    return j;
  }

  /* ---- labels and language ---------------------------------------- */
  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const e of document.querySelectorAll("[data-t]"))
      e.textContent = t(e.dataset.t);
    $("nav").setAttribute("aria-label", t("nav"));
    for (const b of document.querySelectorAll("[data-lang]"))
      b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  }
  function setLang(lang, remember) {
    state.lang = lang;
    if (remember)
      try { localStorage.setItem("carnet.lang", lang); } catch (e) { /* private mode */ }
    applyLabels();
    say(""); /* a message in the other language would stay */
    renderAll();
  }

  /* ---- bad states ---------------------------------------------------- */
  function alerts(errors) {
    const box = $("alerts");
    box.replaceChildren();
    for (const a of errors) box.append(el("p", { class: a.warn ? "warn" : null, text: a.text }));
  }
  function errorText(e) {
    if (e.status === 401) return t("bad.secret");
    if (e.status === 503 || e.code === "dashboard_down")
      return t("bad.unreachable", { message: e.message });
    if (e.status === 403) return t("bad.key", { message: e.message });
    return t("bad.other", { message: e.message, code: e.code });
  }
  function consentAlerts() {
    const out = [];
    const soon = Date.now() + 14 * 86400 * 1000;
    for (const c of state.consents) {
      const v = { app: c.app_name, purpose: c.purpose };
      if (c.state === "expired" && c.ended_at &&
          Date.now() - new Date(c.ended_at).getTime() < 30 * 86400 * 1000)
        out.push({ warn: true, text: t("bad.expired", Object.assign(v, { date: fmtDate(c.ended_at) })) });
      else if (c.state === "active" && c.expires && new Date(c.expires).getTime() < soon)
        out.push({ warn: true, text: t("bad.ending", Object.assign(v, { date: fmtDate(c.expires) })) });
    }
    return out;
  }

  /* ---- consents ------------------------------------------------------ */
  function scopeList(c) {
    return el("ul", {}, c.types.map(ty => {
      const s = schemaOf(ty.type);
      return el("li", {},
        el("strong", { text: ty.type }), s ? " — " + s.doc : "",
        ty.fields ? el("div", { class: "muted" }, ty.fields.join(", ")) :
          el("div", { class: "muted", text: t("c.allfields") }));
    }));
  }
  /* a record type with its docs in the page's language (the schemas'
     own docs are English) */
  function schemaOf(name) {
    const s = state.schemas && state.schemas.find(x => x.type === name);
    const tr = s && I18N[state.lang].schemas && I18N[state.lang].schemas[name];
    if (!s || !tr) return s;
    return Object.assign({}, s, {
      doc: tr.doc || s.doc,
      fields: s.fields.map(f => Object.assign({}, f, { doc: (tr.fields || {})[f.name] || f.doc }))
    });
  }
  function consentCard(c, live) {
    const dl = el("dl", {},
      el("dt", { text: t("c.owner") }), el("dd", { text: c.owner || t("c.notgiven") }),
      el("dt", { text: t("c.model") }), el("dd", { text: c.business_model || t("c.notgiven") }),
      el("dt", { text: t("c.purpose") }), el("dd", { text: c.purpose }),
      el("dt", { text: t("c.data") }), el("dd", {}, scopeList(c)),
      el("dt", { text: t("c.holders") }), el("dd", {
        text: c.holders === "any" ? t("c.anyholder") : c.holders.map(nameOf).join(", ")
      }),
      el("dt", { text: t("c.records") }), el("dd", { text: c.since ? fmtDate(c.since) : t("c.allhistory") }),
      el("dt", { text: t("c.since") }), el("dd", { text: fmtDate(c.granted_at || c.issued) }),
      live ? [el("dt", { text: t("c.until") }),
        el("dd", { text: c.expires ? fmtDate(c.expires) : t("c.untilrevoke") })]
        : [el("dt", { text: t("c.ended") }), el("dd", {},
          fmtDate(c.ended_at), c.erase ? el("div", { class: "muted", text: t("c.erase." + c.erase) }) : null)],
      el("dt", { text: t("c.id") }), el("dd", { class: "mono", text: c.id }));
    return el("article", { class: "card consent", "data-token": c.id, "data-app": c.app_name },
      el("h3", {}, c.app_name, el("span", { class: "badge " + c.state, text: t("c.state." + c.state) })),
      dl,
      live ? el("p", { class: "buttons" },
        el("button", {
          type: "button", class: "danger", "aria-label": t("revoke.label", { app: c.app_name }),
          onclick: () => revoke(c)
        }, t("revoke")),
        c.state === "paused" ?
          el("button", { type: "button", "aria-label": t("resume.label", { app: c.app_name }),
            onclick: () => act("resume", { token: c.id, skip: false }, t("resume.done", { app: c.app_name })) },
          t("resume")) :
          el("button", { type: "button", "aria-label": t("pause.label", { app: c.app_name }),
            onclick: () => act("pause", { token: c.id }, t("pause.done", { app: c.app_name })) },
          t("pause"))) : null);
  }
  function renderConsents() {
    const live = state.consents.filter(c => c.state === "active" || c.state === "paused");
    const ended = state.consents.filter(c => !(c.state === "active" || c.state === "paused"));
    $("consent-list").replaceChildren(...(live.length ? live.map(c => consentCard(c, true))
      : [el("p", { text: t("consents.none") })]));
    $("ended-summary").textContent = t("consents.ended", { n: ended.length });
    $("ended-list").replaceChildren(...(ended.length ? ended.map(c => consentCard(c, false))
      : [el("p", { text: t("consents.endednone") })]));
  }

  /* ---- requests ------------------------------------------------------ */
  function requestCard(r) {
    return el("article", { class: "card request", "data-request": r.seq, "data-app": r.app_name },
      el("h3", { text: t("r.asks", { app: r.app_name }) }),
      el("ul", {}, r.types.map(ty => {
        const s = schemaOf(ty);
        return el("li", {}, el("strong", { text: ty }), s ? " — " + s.doc : "");
      })),
      el("dl", {},
        el("dt", { text: t("c.purpose") }), el("dd", { text: r.purpose }),
        el("dt", { text: t("r.why") }), el("dd", { text: r.note || t("c.notgiven") }),
        el("dt", { text: t("c.owner") }), el("dd", { text: r.owner || t("c.notgiven") }),
        el("dt", { text: t("c.model") }), el("dd", { text: r.business_model || t("c.notgiven") }),
        el("dt", { text: t("r.when") }), el("dd", { text: fmtDate(r.time) })),
      el("p", { class: "buttons" },
        el("button", { type: "button", class: "primary", "aria-label": t("accept.label", { app: r.app_name }),
          onclick: () => accept(r) }, t("accept")),
        el("button", { type: "button", "aria-label": t("decline.label", { app: r.app_name }),
          onclick: () => decline(r) }, t("decline"))));
  }
  function renderRequests() {
    $("request-list").replaceChildren(...(state.requests.length ?
      state.requests.map(requestCard) : [el("p", { text: t("requests.none") })]));
  }

  /* ---- delegations and the emergency card --------------------------- */
  function delegCard(d) {
    const given = d.direction === "given";
    const scope = t(d.scope === "manage" ? "d.manage" : "d.view");
    return el("article", { class: "card deleg", "data-direction": d.direction, "data-name": d.name },
      el("h3", {}, t(given ? "d.given" : "d.received", { name: d.name, scope }),
        el("span", { class: "badge " + (d.state === "active" ? "active" : "revoked"),
          text: I18N[state.lang]["c.state." + d.state] || d.state })),
      el("dl", {},
        el("dt", { text: t("d.types") }), el("dd", { text: d.types.length ? d.types.join(", ") : t("d.alltypes") }),
        el("dt", { text: t("c.until") }), el("dd", { text: d.until ? fmtDate(d.until) : t("c.untilrevoke") }),
        el("dt", { text: t("c.id") }), el("dd", { class: "mono", text: d.id })),
      given ? (d.state === "active" ? el("p", { class: "buttons" }, el("button", {
        type: "button", class: "danger", "aria-label": t("undelegate.label", { name: d.name }),
        onclick: () => undelegate(d)
      }, t("undelegate"))) : null) : el("p", { class: "muted", text: t("d.for", { id: d.id }) }));
  }
  function renderPeople() {
    $("deleg-list").replaceChildren(...(state.delegations.length ?
      state.delegations.map(delegCard) : [el("p", { text: t("people.none") })]));
    const c = state.card && state.card.card;
    $("card-view").replaceChildren(c ? el("dl", { class: "card" },
      el("dt", { text: t("card.types") }), el("dd", { text: c.types.join(", ") }),
      el("dt", { text: t("card.apps") }), el("dd", { text: c.apps.map(nameOf).join(", ") }))
      : el("p", { text: t("card.none") }));
  }
  async function undelegate(d) {
    const yes = await ask(t("undelegate.title", { name: d.name }),
      [el("p", { text: t("undelegate.text", { name: d.name }) })], t("undelegate"), true);
    if (yes) await act("undelegate", { to: d.id }, t("undelegate.done", { name: d.name }));
  }
  function emergencyAlerts() {
    if (!state.log) return [];
    return state.log.entries.filter(e => e.kind === "emergency").map(e => ({
      text: t("bad.emergency", { app: e.app_name || short(e.app), date: fmtDate(e.time), reason: e.note || "" })
    }));
  }

  /* ---- dialogs (native <dialog>: focus trap and Escape) -------------- */
  function ask(title, body, okLabel, danger) {
    const d = $("dialog");
    $("dialog-title").textContent = title;
    $("dialog-body").replaceChildren(...body);
    const ok = $("dialog-ok");
    ok.textContent = okLabel;
    ok.className = danger ? "primary danger" : "primary";
    $("dialog-cancel").textContent = t("cancel");
    return new Promise(resolve => {
      d.addEventListener("close", () => resolve(d.returnValue === "ok"), { once: true });
      d.returnValue = "";
      d.showModal();
      $("dialog-cancel").focus();
    });
  }
  async function act(path, body, done) {
    try {
      await api(path, body);
      say(done);
    } catch (e) {
      alerts([{ text: errorText(e) }]);
    }
    await load();
  }
  async function revoke(c) {
    const yes = await ask(t("revoke.title"),
      [el("p", { text: t("revoke.text", { app: c.app_name, purpose: c.purpose }) })],
      t("revoke.confirm"), true);
    if (yes) await act("revoke", { token: c.id }, t("revoke.done", { app: c.app_name }));
  }
  async function accept(r) {
    const sel = el("select", { id: "accept-expires" },
      el("option", { value: "" }, t("accept.forever")),
      el("option", { value: "30d" }, t("accept.30d")),
      el("option", { value: "90d" }, t("accept.90d")),
      el("option", { value: "1y" }, t("accept.1y")));
    const yes = await ask(t("accept.title", { app: r.app_name }), [
      el("p", { text: t("accept.text", { app: r.app_name, purpose: r.purpose }) }),
      el("ul", {}, r.types.map(ty => el("li", { text: ty }))),
      el("label", { for: "accept-expires" }, t("accept.duration")), sel,
      el("p", { class: "muted", text: t("accept.signed") })], t("accept.confirm"));
    if (yes) await act("accept", { request: r.seq, expires: sel.value },
      t("accept.done", { app: r.app_name }));
  }
  async function decline(r) {
    const note = el("textarea", { id: "decline-note", maxlength: "200" });
    const yes = await ask(t("decline.title", { app: r.app_name }), [
      el("label", { for: "decline-note" }, t("decline.note")), note], t("decline.confirm"));
    if (yes) await act("decline", { request: r.seq, note: note.value },
      t("decline.done", { app: r.app_name }));
  }

  /* ---- the use log: filters, charts, timeline ----------------------- */
  function fillSelect(sel, values, allLabel, label) {
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "" }, allLabel),
      ...values.map(v => el("option", { value: v }, label ? label(v) : v)));
    sel.value = values.includes(keep) ? keep : "";
  }
  function filtered() {
    const app = $("f-app").value, type = $("f-type").value, kind = $("f-kind").value;
    return state.log.entries.filter(e =>
      (!app || e.app_name === app) && (!type || e.type === type) && (!kind || e.kind === kind));
  }
  const PALETTE = ["#0b4f9c", "#c2410c", "#1d6b32", "#7e22ce", "#a3191e", "#0e7490",
    "#854d0e", "#be185d", "#4d4d4d", "#15803d"];
  function chart(id, capId, entries, keyOf) {
    const days = [...new Set(entries.map(e => e.time.slice(0, 10)))].sort();
    const keys = [...new Set(entries.map(keyOf))].sort();
    const counts = new Map(keys.map(k => [k, new Map()]));
    for (const e of entries) {
      const m = counts.get(keyOf(e)), d = e.time.slice(0, 10);
      m.set(d, (m.get(d) || 0) + 1);
    }
    const canvas = $(id);
    const summary = entries.length ? t("uses.chartsum",
      { n: entries.length, from: fmtDay(days[0]), to: fmtDay(days[days.length - 1]) })
      : t("uses.none");
    canvas.setAttribute("aria-label", $(capId).textContent + ". " + summary + ". " +
      keys.map(k => k + ": " + [...counts.get(k).values()].reduce((a, b) => a + b, 0)).join(", "));
    if (state.charts[id]) state.charts[id].destroy();
    if (!window.Chart) return;
    state.charts[id] = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: days.map(fmtDay),
        datasets: keys.map((k, i) => ({
          label: k, data: days.map(d => counts.get(k).get(d) || 0),
          backgroundColor: PALETTE[i % PALETTE.length]
        }))
      },
      options: {
        animation: false, maintainAspectRatio: false, responsive: true,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }
  function usesTable(entries) {
    const days = [...new Set(entries.map(e => e.time.slice(0, 10)))].sort();
    const apps = [...new Set(entries.map(e => e.app_name || "?"))].sort();
    const head = el("tr", {}, el("th", { scope: "col", text: t("uses.day") }),
      apps.map(a => el("th", { scope: "col", text: a })));
    const rows = days.map(d => el("tr", {}, el("th", { scope: "row", text: fmtDay(d) }),
      apps.map(a => el("td", {
        text: String(entries.filter(e => e.time.startsWith(d) && (e.app_name || "?") === a).length)
      }))));
    $("uses-table").replaceChildren(el("div", { class: "tablewrap" },
      el("table", {}, el("thead", {}, head), el("tbody", {}, rows))));
  }
  function entryItem(e) {
    const bits = [];
    if (e.app_name) bits.push(e.app_name);
    if (e.type) bits.push(e.type);
    if (e.holder_name || e.holder) bits.push("← " + (e.holder_name || short(e.holder)));
    if (e.purpose) bits.push("« " + e.purpose + " »");
    if (e.kind === "deliver" && e.record !== undefined) bits.push(t("e.record", { n: e.record }));
    if (e.token) bits.push(t("e.under", { id: short(e.token) }));
    if (e.by) bits.push(t(e.kind === "refused" ? "e.tried" : "e.by", { name: e.by_name || short(e.by) }));
    return el("li", { class: e.kind, "data-kind": e.kind, "data-app": e.app_name || "" },
      el("time", { datetime: e.time, text: fmtDate(e.time) }),
      el("span", { class: "kind", text: kindLabel(e.kind) }),
      bits.length ? " — " + bits.join(" · ") : "",
      e.note ? el("div", { class: "muted", text: e.note }) : null);
  }
  function renderLog() {
    const ok = state.log && state.log.verified;
    for (const id of ["log-status", "log-status-2"]) {
      const p = $(id);
      if (!state.log) { p.textContent = ""; continue; }
      p.className = "logstatus " + (ok ? "ok" : "bad");
      p.textContent = ok ? t("log.ok", { n: state.log.count }) :
        t("log.bad", { why: state.log.why || "?" });
    }
    if (!state.log) return;
    const es = state.log.entries;
    fillSelect($("f-app"), [...new Set(es.map(e => e.app_name).filter(Boolean))].sort(), t("uses.all"));
    fillSelect($("f-type"), [...new Set(es.map(e => e.type).filter(Boolean))].sort(), t("uses.all"));
    fillSelect($("f-kind"), [...new Set(es.map(e => e.kind))].sort(), t("uses.allkinds"), kindLabel);
    renderUses();
  }
  function renderUses() {
    const sel = filtered();
    const deliveries = sel.filter(e => e.kind === "deliver");
    chart("chart-app", "cap-app", deliveries, e => e.app_name || "?");
    chart("chart-type", "cap-type", deliveries, e => e.type || "?");
    usesTable(deliveries);
    const newest = sel.slice().reverse();
    const shown = newest.slice(0, state.shown);
    $("timeline").replaceChildren(...(shown.length ? shown.map(entryItem)
      : [el("li", { text: t("uses.none") })]));
    $("uses-count").textContent = t("uses.count", { shown: shown.length, n: sel.length });
    $("more").hidden = shown.length >= newest.length;
  }

  /* ---- the data, per holder and type -------------------------------- */
  async function showData() {
    const view = $("data-view");
    view.replaceChildren(el("p", { text: t("loading") }));
    let j;
    try {
      j = await api("data");
    } catch (e) {
      view.replaceChildren();
      alerts([{ text: errorText(e) }]);
      return;
    }
    state.schemas = j.schemas;
    Object.assign(state.names, j.names || {});
    if (!j.records.length) {
      view.replaceChildren(el("p", { text: t("data.none") }));
      return;
    }
    const byHolder = new Map();
    for (const r of j.records) {
      const h = r.holder || "";
      if (!byHolder.has(h)) byHolder.set(h, new Map());
      const m = byHolder.get(h);
      if (!m.has(r.type)) m.set(r.type, []);
      m.get(r.type).push(r);
    }
    const parts = [];
    for (const [h, types] of byHolder) {
      parts.push(el("h3", { class: "holder", text: t("data.holder", { name: nameOf(h) }) }));
      for (const [type, recs] of types) {
        const s = schemaOf(type) || { type, doc: "", fields: [] };
        const fields = s.fields.filter(f => recs.some(r => r[f.name] !== undefined));
        const head = el("tr", {}, el("th", { scope: "col" }, "time"),
          fields.map(f => el("th", { scope: "col" }, el("abbr", { title: f.doc }, f.name))));
        const rows = recs.map(r => el("tr", {}, el("td", { text: fmtDate(r.time) }),
          fields.map(f => el("td", {
            text: r[f.name] === undefined ? "" : Array.isArray(r[f.name]) ? r[f.name].join(", ") : String(r[f.name])
          }))));
        parts.push(el("section", { class: "datatype", "data-type": type, "aria-label": type },
          el("h4", {}, type, " — ", s.doc, " ", el("span", { class: "muted", text: "(" + t("data.records", { n: recs.length }) + ")" })),
          el("details", {}, el("summary", { text: t("data.fields") }),
            el("dl", {}, s.fields.map(f => [el("dt", {}, el("strong", { text: f.name }),
              " (" + f.type + ", " + (f.required ? t("data.required") : t("data.optional")) + ")"),
              el("dd", { text: f.doc })]))),
          el("div", { class: "tablewrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows)))));
      }
    }
    view.replaceChildren(...parts);
    await load(); /* the showing is in the log now */
  }

  /* ---- download ------------------------------------------------------ */
  async function download(format) {
    try {
      const r = await fetch("/api/download?format=" + format,
        { headers: { "X-Carnet-Secret": state.secret || "" } });
      if (!r.ok) {
        let err = {};
        try { err = (await r.json()).error || {}; } catch (e) { /* not JSON */ }
        throw new ApiError(r.status, err.code || "http_" + r.status, err.message || r.statusText);
      }
      const name = format === "fhir" ? "carnet-export.fhir.json" : "carnet-export.json";
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      say(t("download.done", { name }));
    } catch (e) {
      alerts([{ text: errorText(e) }]);
    }
    await load();
  }

  /* ---- loading ------------------------------------------------------- */
  function renderAll() {
    if (state.status) {
      $("who").textContent = t("who", {
        name: state.status.name, id: short(state.status.person), broker: state.status.broker
      });
    }
    renderConsents();
    renderRequests();
    renderPeople();
    renderLog();
  }
  async function load() {
    if (state.busy) { state.again = true; return; } /* once more after */
    state.busy = true;
    document.body.dataset.loaded = "loading";
    try {
      state.status = await api("status");
      if (!state.schemas) state.schemas = (await api("schemas")).schemas;
      /* Each part on its own, consents first: a part that fails (a flood
       * of requests, a log too long to fetch) never hides the consents,
       * so Revoke stays at hand; the failure is said. */
      const failed = [];
      const part = async (name, use) => {
        try { use(await api(name)); } catch (e) { failed.push({ text: errorText(e) }); }
      };
      await part("consents", c => { state.consents = c.consents; });
      await part("requests", r => { state.requests = r.requests; });
      await part("log", l => {
        state.log = l;
        state.names = Object.assign(state.names, l.names || {});
      });
      await part("delegations", dg => { state.delegations = dg.delegations; });
      await part("card", card => { state.card = card.emergency; });
      alerts(failed.concat(emergencyAlerts(), consentAlerts()));
      renderAll();
      $("updated").textContent = t("updated", { time: new Date().toLocaleTimeString(state.lang) });
      document.body.dataset.loaded = failed.length ? "partial" : "yes";
      if (failed.length) $("main").dataset.stale = "yes";
      else $("main").removeAttribute("data-stale");
    } catch (e) {
      alerts([{ text: errorText(e) }]);
      say("");
      $("main").dataset.stale = "yes"; /* what is shown is not current */
      document.body.dataset.loaded = "error";
    } finally {
      state.busy = false;
    }
    if (state.again) { state.again = false; await load(); }
  }

  function start() {
    /* the secret: from the address's fragment, then kept for this tab */
    const m = /(?:^#|&)k=([0-9a-f]+)/.exec(location.hash);
    if (m) {
      state.secret = m[1];
      try { sessionStorage.setItem("carnet.k", m[1]); } catch (e) { /* private mode */ }
      history.replaceState(null, "", location.pathname);
    } else {
      try { state.secret = sessionStorage.getItem("carnet.k"); } catch (e) { state.secret = null; }
    }
    let lang = null;
    try { lang = localStorage.getItem("carnet.lang"); } catch (e) { lang = null; }
    state.lang = lang in I18N ? lang : (navigator.language || "fr").startsWith("en") ? "en" : "fr";
    applyLabels();
    for (const b of document.querySelectorAll("[data-lang]"))
      b.addEventListener("click", () => setLang(b.dataset.lang, true));
    $("refresh").addEventListener("click", load);
    for (const id of ["f-app", "f-type", "f-kind"])
      $(id).addEventListener("change", () => { state.shown = PAGE; renderUses(); });
    $("filters").addEventListener("submit", e => e.preventDefault());
    $("more").addEventListener("click", () => { state.shown += PAGE; renderUses(); });
    $("show-data").addEventListener("click", showData);
    $("dl-json").addEventListener("click", () => download("json"));
    $("dl-fhir").addEventListener("click", () => download("fhir"));
    load().then(() => {
      /* the status's language, unless the person chose one here */
      if (!lang && state.status && state.status.lang in I18N && state.status.lang !== state.lang)
        setLang(state.status.lang, false);
    });
    setInterval(() => { if (!$("dialog").open) load(); }, REFRESH_MS);
  }
  start();
})();
