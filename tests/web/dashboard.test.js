// carnet dashboard in headless Chromium (Debian's), driven by playwright-core.
// Started by tests/it_dashboard.sh, which sets up a real carnetd with alice,
// two holders and two apps, starts `carnet dashboard` for alice (URL) and
// for an unregistered key (STRANGER_URL).  Each check prints ok or stops the
// run with the reason; holders and apps are the real carnet CLI.
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const env = process.env;
const B = env.CARNET_BIN, T = env.T, SHOTS = env.SHOTS;
let passed = 0;
function ok(what) { passed++; console.log("ok - " + what); }
function check(cond, what) { if (!cond) throw new Error(what); }
const id = who => fs.readFileSync(path.join(T, who + ".id"), "utf8").trim();
const sleep = ms => new Promise(r => setTimeout(r, ms));

// carnet as a party, like the shell tests' C wrapper
function carnet(who, args, input) {
  return execFileSync(path.join(B, "carnet"), [...args, "--broker", env.EP, "--data", env.DATA],
    { env: { ...env, CARNET_KEY: path.join(T, who + ".key") }, input, timeout: 30000,
      stdio: ["pipe", "pipe", "pipe"] }).toString();
}
function claims(from, n) {
  let s = "";
  for (let i = from; i < from + n; i++)
    s += JSON.stringify({ user: id("alice"), ref: "w-" + i, time: "2019-03-" +
      String(1 + (i % 27)).padStart(2, "0") + "T09:00:00Z", act_code: "C",
      label: "Consultation", amount_eur: 25, reimbursed_eur: 16.5,
      practitioner: "generaliste" }) + "\n";
  return s;
}
function lines(file) {
  try { return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length; } catch (e) { return 0; }
}
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await cond()) return; await sleep(100); }
  throw new Error("timed out: " + what);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  });
  const problems = [];
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 },
    locale: "fr-FR" });
  const page = await context.newPage();
  page.on("console", m => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", e => problems.push(String(e)));
  const loaded = () => page.waitForSelector('body[data-loaded="yes"]');
  const text = sel => page.locator(sel).innerText();
  const subs = [];

  try {
    // --- what is there: consents, requests, the log, in French
    await page.goto(env.URL);
    await loaded();
    check(!page.url().includes("#k="), "the secret stays in the address bar");
    check((await text("h1")) === "Mon tableau de bord carnet", "French labels by default");
    const budget = page.locator('#consent-list .consent[data-app="budget"]');
    check(await budget.count() === 1, "budget's consent is listed");
    const bt = await budget.innerText();
    for (const w of ["Budget SAS", "subscription", "budget", "claim", "actif", "Soin remboursé"])
      check(bt.includes(w), "budget's card lacks " + w + ": " + bt);
    check(await page.locator('#ended-list .consent[data-app="care"] .badge.expired').count() === 1,
      "care's short consent is listed as expired");
    check((await text("#alerts")).includes("a expiré"), "no notice of the expired consent: " + await text("#alerts"));
    check(await page.locator("#request-list .request").count() === 2, "two pending requests");
    check((await text('#request-list .request[data-app="care"]')).includes("to chart your HbA1c"),
      "care's request does not say why");
    check(await page.locator('#timeline li.deliver[data-app="budget"]').count() === 5,
      "the timeline does not show budget's 5 deliveries");
    check((await page.locator(".logstatus.ok").first().innerText()).includes("Journal vérifié"),
      "the log's status is not shown verified");
    check((await page.locator("#chart-app").getAttribute("aria-label")).includes("budget: 5"),
      "the per-app chart does not count budget's deliveries");
    check((await text("#alerts")).includes("found unconscious") &&
      (await text("#alerts")).includes("samu"), "the emergency opening is not shown first: " + await text("#alerts"));
    const bob = page.locator('#deleg-list .deleg[data-name="bob"]');
    check(await bob.count() === 1 && (await bob.innerText()).includes("bob peut voir vos consentements"),
      "bob's view access is not listed");
    check((await text("#card-view")).includes("lab_result") && (await text("#card-view")).includes("samu"),
      "the emergency card is not shown: " + await text("#card-view"));
    // every record type and field has its French documentation
    const missing = await page.evaluate(async () => {
      const r = await fetch("/api/schemas", { headers: { "X-Carnet-Secret": sessionStorage.getItem("carnet.k") } });
      const fr = window.CARNET_I18N.fr.schemas, out = [];
      for (const s of (await r.json()).schemas) {
        if (!fr[s.type] || !fr[s.type].doc) out.push(s.type);
        for (const f of s.fields)
          if (!fr[s.type] || !fr[s.type].fields[f.name]) out.push(s.type + "." + f.name);
      }
      return out;
    });
    check(missing.length === 0, "no French documentation for: " + missing.join(", "));
    await page.screenshot({ path: path.join(SHOTS, "dashboard-fr.png"), fullPage: true });
    ok("emergency opening flagged first, with its reason; bob's access and the emergency card shown; every type and field documented in French");
    ok("consents (owner, model, purpose, data, state), expired one flagged, requests with their reason, 5 deliveries in the timeline and chart, log verified");

    // --- the timeline filters
    await page.selectOption("#f-kind", "deliver");
    const kinds = await page.locator("#timeline li").evaluateAll(ls => ls.map(l => l.dataset.kind));
    // budget's 5, and the 4 lab results read in the emergency
    check(kinds.length === 9 && kinds.every(k => k === "deliver"), "kind filter: " + kinds);
    await page.selectOption("#f-kind", "");
    await page.selectOption("#f-app", "care");
    const apps = await page.locator("#timeline li").evaluateAll(ls => ls.map(l => l.dataset.app));
    check(apps.length > 0 && apps.every(a => a === "care"), "app filter: " + apps);
    await page.selectOption("#f-app", "");
    ok("the timeline filters by event kind and by app");

    // --- Revoke stops a live feed at once
    const feed = path.join(T, "budget-live.jsonl"), feedErr = path.join(T, "budget-live.err");
    const sub = spawn(path.join(B, "carnet"), ["subscribe", "--broker", env.EP, "--data", env.DATA],
      { env: { ...env, CARNET_KEY: path.join(T, "budget.key") },
        stdio: ["ignore", fs.openSync(feed, "w"), fs.openSync(feedErr, "w")] });
    subs.push(sub);
    await sleep(500);
    carnet("mgen", ["put", "--type", "claim"], claims(1, 2));
    await until(() => lines(feed) === 2, 10000, "budget's live feed gets the 2 new claims");
    await budget.getByRole("button", { name: /Retirer/ }).click();
    await page.waitForSelector("dialog[open]");
    check((await text("dialog")).includes("Budget") || (await text("dialog")).includes("budget"),
      "the confirmation does not name the app");
    await page.screenshot({ path: path.join(SHOTS, "revoke-confirm.png") });
    await page.click("#dialog-ok");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("retiré"));
    carnet("mgen", ["put", "--type", "claim"], claims(3, 3));
    await sleep(2500);
    check(lines(feed) === 2, "budget got " + (lines(feed) - 2) + " records after the revoke");
    await until(() => fs.readFileSync(feedErr, "utf8").includes("revoked"), 5000,
      "budget's feed is told the consent was revoked");
    await loaded();
    check(await page.locator('#ended-list .consent[data-app="budget"] .badge.revoked').count() === 1,
      "budget's consent is not shown revoked");
    ok("Revoke (with a confirmation) stops the live feed: 0 of 3 later records reach the app, which is told");

    // --- Accept a request: signed here, records flow
    await page.locator('#request-list .request[data-app="care"]').getByRole("button", { name: /Accepter/ }).click();
    await page.waitForSelector("dialog[open]");
    await page.selectOption("#accept-expires", "90d");
    await page.click("#dialog-ok");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("Accepté"));
    const got = carnet("care", ["subscribe", "--idle-exit", "3"]).split("\n").filter(Boolean).map(JSON.parse);
    check(got.length === 4 && got.every(r => r.type === "lab_result"), "care got " + got.length +
      " records after accepting, want the 4 lab results");
    await page.click("#refresh");
    await page.waitForFunction(() => document.querySelectorAll('#timeline li.deliver[data-app="care"]').length === 4);
    const care = page.locator('#consent-list .consent[data-app="care"]');
    check(await care.count() === 1 && !(await care.innerText()).includes("jusqu'à ce que vous le retiriez"),
      "care's consent is not active with an end date");
    ok("Accept signs the requested consent (90 days): the 4 lab results flow, and the timeline shows them");

    // --- Pause holds the flow, Resume sends what came meanwhile
    await care.getByRole("button", { name: /pause/ }).click();
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("En pause"));
    await loaded();
    check(await page.locator('#consent-list .consent[data-app="care"] .badge.paused').count() === 1,
      "care's consent is not shown paused");
    carnet("labo", ["put", "--type", "lab_result"], JSON.stringify({ user: id("alice"), ref: "w-lab",
      time: "2019-05-01T08:00:00Z", loinc: "4548-4", label: "HbA1c", value: 6.1, unit: "%" }) + "\n");
    check(carnet("care", ["subscribe", "--idle-exit", "2"]).trim() === "", "a paused consent delivered");
    await care.getByRole("button", { name: /Reprendre/ }).click();
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("Repris"));
    const after = carnet("care", ["subscribe", "--idle-exit", "2"]).split("\n").filter(Boolean);
    check(after.length === 1, "after resuming care got " + after.length + " records, want the 1 sent during the pause");
    ok("Pause holds the flow (nothing during it), Resume sends what came meanwhile");

    // --- Decline, with a reason
    await page.locator('#request-list .request[data-app="budget"]').getByRole("button", { name: /Refuser/ }).click();
    await page.waitForSelector("dialog[open]");
    await page.fill("#decline-note", "not needed");
    await page.click("#dialog-ok");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("refusée"));
    await loaded();
    check(await page.locator("#request-list .request").count() === 0, "requests left after answering");
    check((await text("#timeline")).includes("not needed"), "the decline's reason is not in the timeline");
    ok("Decline takes the request off the list; the reason shows in the timeline");

    // --- end a delegate's access
    await bob.getByRole("button").click();
    await page.waitForSelector("dialog[open]");
    await page.click("#dialog-ok");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("terminé"));
    await loaded();
    check(await page.locator('#deleg-list .deleg[data-name="bob"] .badge.active').count() === 0,
      "bob's access still shown active");
    ok("a delegate's access ends from the page");

    // --- keyboard: open the confirmation with Enter, leave it with Escape
    await care.getByRole("button", { name: /Retirer/ }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog[open]");
    check(await page.evaluate(() => document.activeElement.id) === "dialog-cancel",
      "the confirmation does not put focus on Cancel");
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog:not([open])", { state: "attached" });
    await page.click("#refresh");
    await loaded();
    check(await page.locator('#consent-list .consent[data-app="care"]').count() === 1,
      "Escape revoked the consent");
    const unnamed = await page.evaluate(() => [...document.querySelectorAll("button, select, canvas")]
      .filter(e => e.offsetParent !== null || e.tagName === "CANVAS")
      .filter(e => !(e.getAttribute("aria-label") || e.textContent.trim() ||
        (e.labels && e.labels.length)))
      .map(e => e.outerHTML.slice(0, 80)));
    check(unnamed.length === 0, "controls without an accessible name: " + unnamed);
    ok("keyboard: Enter opens the confirmation on Cancel, Escape leaves the consent; every control has a name");

    // --- English, the data with field docs, downloads
    await page.click('button[data-lang="en"]');
    check((await text("h1")) === "My carnet dashboard", "English labels");
    check(await page.getAttribute("html", "lang") === "en", "html lang follows the language");
    await page.click("#show-data");
    await page.waitForSelector('.datatype[data-type="lab_result"]');
    const claimRows = await page.locator('.datatype[data-type="claim"] tbody tr').count();
    check(claimRows === 10, "claims shown: " + claimRows + ", want 10");
    check(await page.locator('.datatype[data-type="lab_result"] tbody tr').count() === 5, "lab results shown");
    check((await page.locator('.datatype[data-type="claim"] abbr', { hasText: "act_code" }).getAttribute("title"))
      .includes("nomenclature"), "act_code has no documentation");
    check((await text("#data-view")).includes("Holder: mgen"), "records are not grouped by holder name");
    await page.screenshot({ path: path.join(SHOTS, "dashboard-en.png"), fullPage: true });
    for (const [btn, want] of [["#dl-json", "json"], ["#dl-fhir", "fhir"]]) {
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click(btn)]);
      const file = path.join(T, "dl-" + want + ".json");
      await dl.saveAs(file);
      const doc = JSON.parse(fs.readFileSync(file, "utf8"));
      if (want === "json")
        check(doc.records.length === 15 && doc.log.length > 10 && doc.log_head.verified === true,
          "JSON download: " + doc.records.length + " records, verified " + doc.log_head.verified);
      else
        check(doc.resourceType === "Bundle" && doc.entry[0].resource.resourceType === "Patient" &&
          doc.entry.filter((e) => (e.resource.identifier || []).some((i) =>
            i.system === "urn:carnet:holder-ref")).length === 15, "FHIR download");
    }
    ok("English labels; data per holder and type with each field's documentation; JSON and FHIR downloads");

    // --- bad states: no secret, a refused key, the broker gone
    const p2 = await context.newPage();
    await p2.goto(env.URL.replace(/#k=.*/, ""));
    await p2.waitForSelector('body[data-loaded="error"]');
    check((await p2.locator("#alerts").innerText()).includes("secret"), "no-secret state");
    await p2.goto(env.STRANGER_URL);
    await p2.waitForSelector('body[data-loaded="error"]');
    check(/refuse/.test(await p2.locator("#alerts").innerText()), "key-refused state: " +
      await p2.locator("#alerts").innerText());
    await p2.close();
    process.kill(Number(env.BROKER_PID), "SIGTERM");
    await sleep(1000);
    await page.click("#refresh");
    await page.waitForSelector('body[data-loaded="error"]');
    check((await text("#alerts")).includes("does not answer"), "broker-unreachable state: " + await text("#alerts"));
    await page.screenshot({ path: path.join(SHOTS, "broker-unreachable.png") });
    ok("bad states said plainly: opened without the secret, key refused, broker unreachable");

    const csp = problems.filter(p => /Content Security Policy|Refused to/.test(p));
    check(csp.length === 0, "the page breaks its own CSP: " + csp.join(" | "));
    const errs = problems.filter(p => !/Failed to load resource/.test(p));
    check(errs.length === 0, "errors in the page: " + errs.join(" | "));
    ok("no script error and nothing refused by the page's Content-Security-Policy");
  } finally {
    for (const s of subs) s.kill();
    await browser.close();
    fs.writeFileSync(path.join(T, "web.passed"), String(passed));
  }
}

main().catch(e => { console.log("FAIL: " + e.message); process.exit(1); });
