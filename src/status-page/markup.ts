/**
 * The status page's HTML. It holds no data and no secret: the script fills it in with what the
 * API answers to the operator's key. No inline script or style, so the Content-Security-Policy
 * can forbid both; the stylesheet and the script are served beside it (see routes.ts). Paths are
 * relative, so the page works when a proxy serves the relay under a prefix.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>hookrelay status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status-page.css">
<script src="status-page.js" defer></script>
</head>
<body>
<header class="top">
  <h1>hookrelay <span class="muted">status</span></h1>
  <span id="health" class="badge" hidden></span>
  <span id="version" class="muted"></span>
  <span class="spacer"></span>
  <span id="updated" class="muted"></span>
  <button id="forget-key" type="button" hidden>Forget key</button>
</header>
<main>
  <noscript><p class="problem">This page needs JavaScript to read the relay's API.</p>
  </noscript>
  <section id="sign-in" class="card sign-in" aria-labelledby="sign-in-title" hidden>
    <h2 id="sign-in-title">Open the relay's status</h2>
    <p>Enter an API key from the relay's config. A key with <code>read:webhooks</code> shows the
      relay; <code>write:webhooks</code> also allows pausing, pinging, replaying and
      redelivering. The key stays in this tab only (session storage) and is sent as
      <code>Authorization: Apikey …</code>.</p>
    <form id="key-form">
      <label for="key-input">API key</label>
      <input id="key-input" name="key" type="password" autocomplete="off" spellcheck="false"
        required aria-describedby="key-error">
      <button id="key-submit" type="submit">Show status</button>
    </form>
    <p id="key-error" class="problem" role="alert"></p>
  </section>
  <p id="problem" class="problem" role="alert"></p>
  <div id="dashboard" hidden>
    <section class="totals" aria-label="Totals">
      <div class="card total">
        <h2>Events ingested</h2>
        <p id="total-events" class="value">—</p>
        <p id="total-events-note" class="muted"></p>
      </div>
      <div class="card total">
        <h2>Pending deliveries</h2>
        <p id="total-pending" class="value">—</p>
        <p class="muted">waiting to be sent or retried</p>
      </div>
      <div class="card total">
        <h2>Oldest pending</h2>
        <p id="total-oldest" class="value">—</p>
        <p id="total-oldest-note" class="muted"></p>
      </div>
      <div class="card total">
        <h2>Data file</h2>
        <p id="total-data-file" class="value">—</p>
        <p id="total-data-file-note" class="muted"></p>
      </div>
    </section>
    <section class="card fill targets-card" aria-labelledby="targets-title">
      <div class="section-head">
        <h2 id="targets-title">Targets <span id="target-count" class="count"></span></h2>
        <label class="filter">Filter
          <input id="target-filter" type="search" placeholder="path, URL, name or #id"></label>
        <ul class="legend" aria-label="Chart colours">
          <li><span class="swatch success"></span>success</li>
          <li><span class="swatch failed"></span>failed</li>
          <li><span class="swatch skipped"></span>skipped</li>
          <li><span class="swatch pending"></span>pending</li>
        </ul>
      </div>
      <div class="scroll targets">
        <table id="targets">
          <caption class="visually-hidden">Every target, with its deliveries of the last
            hour</caption>
          <colgroup><col class="path"><col class="url"><col class="state"><col class="failures">
            <col class="success"><col class="activity"></colgroup>
          <thead><tr>
            <th scope="col">Path</th><th scope="col">URL</th><th scope="col">State</th>
            <th scope="col" class="number">Failures in a row</th><th scope="col">Last success</th>
            <th scope="col" title="Deliveries by the time their event was accepted, in 5-minute
              bars">Last hour</th>
          </tr></thead>
          <tbody id="targets-body"></tbody>
        </table>
      </div>
    </section>
    <section id="target-panel" class="card fill panel-card" aria-labelledby="target-title">
      <div class="section-head">
        <h2 id="target-title">Deliveries</h2>
        <p id="target-summary" class="muted summary"></p>
      </div>
      <p id="target-placeholder" class="muted">Choose a target above to see its recent
        deliveries and act on it.</p>
      <div id="target-detail" hidden>
        <div class="toolbar" role="group" aria-label="Actions on this target">
          <button id="pause-button" type="button">Pause</button>
          <button id="ping-button" type="button">Send ping</button>
          <span class="replay">
            <label for="replay-outcomes">Replay</label>
            <select id="replay-outcomes">
              <option value="failed">failed</option>
              <option value="failed,skipped" selected>failed and skipped</option>
            </select>
            <label for="replay-period">of the</label>
            <select id="replay-period">
              <option value="3600">last hour</option>
              <option value="86400" selected>last 24 hours</option>
              <option value="604800">last 7 days</option>
              <option value="2592000">last 30 days</option>
            </select>
            <button id="replay-button" type="button">Replay</button>
          </span>
          <span id="managed-note" class="muted" hidden>Managed by the config file: pause or
            change it there.</span>
          <p id="message" class="message" role="status" hidden></p>
        </div>
        <div id="deliveries-scroll" class="scroll deliveries">
          <table id="deliveries">
            <caption class="visually-hidden">Recent deliveries of the chosen target, newest
              first</caption>
            <colgroup><col class="id"><col class="event"><col class="outcome"><col class="attempts">
              <col class="status"><col class="error"><col class="time"><col class="time">
              <col class="action"></colgroup>
            <thead><tr>
              <th scope="col" class="number">Delivery</th><th scope="col">Event</th>
              <th scope="col">Outcome</th><th scope="col" class="number">Attempts</th>
              <th scope="col" class="number">Status</th><th scope="col">Error</th>
              <th scope="col">Accepted</th><th scope="col">Delivered or next attempt</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr></thead>
            <tbody id="deliveries-body"></tbody>
          </table>
        </div>
        <p id="deliveries-empty" class="muted" hidden>No deliveries kept for this target.</p>
      </div>
    </section>
  </div>
</main>
</body>
</html>
`;
