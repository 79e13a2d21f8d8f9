/**
 * The status page's stylesheet. Colours are variables with a light and a dark set, chosen by the
 * system's theme (prefers-color-scheme); the outcome colours keep their meaning in both. Tables
 * have fixed layouts, so a refresh that changes a number never shifts the columns.
 */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --page: #f4f5f7;
  --card: #ffffff;
  --line: #d9dde3;
  --text: #1c2128;
  --muted: #5c6670;
  --accent: #2457c5;
  --accent-text: #ffffff;
  --chosen: #e8effc;
  --focus: #2457c5;
  --success: #23863f;
  --failed: #d1242f;
  --skipped: #8b949e;
  --pending: #c27c0e;
  --slot: #eef0f3;
  --alarm-back: #fdecec;
}
@media (prefers-color-scheme: dark) {
  :root {
    --page: #101318;
    --card: #181c23;
    --line: #2d333c;
    --text: #e3e7ec;
    --muted: #9aa3ad;
    --accent: #5b8def;
    --accent-text: #0d1117;
    --chosen: #1e2a40;
    --focus: #7aa5ff;
    --success: #3fb75a;
    --failed: #f25c54;
    --skipped: #7a838d;
    --pending: #e0a331;
    --slot: #222831;
    --alarm-back: #3a1d1f;
  }
}
* { box-sizing: border-box; }
/* The hidden attribute must win over every display rule below. */
[hidden] { display: none !important; }
body {
  margin: 0;
  background: var(--page);
  color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
}
h1, h2, p { margin: 0; }
h1 { font-size: 18px; font-weight: 650; }
h2 { font-size: 15px; font-weight: 600; }
code { font-size: 13px; }
.muted { color: var(--muted); }
.spacer { flex: 1; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap;
}
.top {
  display: flex; align-items: center; gap: 12px;
  padding: 10px 24px; background: var(--card); border-bottom: 1px solid var(--line);
}
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 32px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; margin-bottom: 16px;
}
button, input, select { font: inherit; color: inherit; }
button {
  background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 5px 12px; cursor: pointer;
}
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.5; cursor: default; }
button[type="submit"], #key-submit {
  background: var(--accent); color: var(--accent-text); border-color: var(--accent);
}
button.small { padding: 2px 8px; font-size: 13px; }
input, select {
  background: var(--page); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px;
}
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.sign-in { max-width: 560px; margin: 48px auto; display: grid; gap: 12px; }
.sign-in form { display: flex; gap: 8px; align-items: center; }
.sign-in input { flex: 1; }
.problem:empty, .message[hidden] { display: none; }
.problem, .message {
  padding: 8px 12px; border-radius: 6px; margin-bottom: 16px; border: 1px solid var(--line);
}
.problem, .message.error { background: var(--alarm-back); border-color: var(--failed); }
.message.done { border-color: var(--success); }
.sign-in .problem { margin: 0; }
.totals { display: grid; grid-template-columns: repeat(4, 1fr); gap: 16px; margin-bottom: 16px; }
.total h2 { font-size: 13px; font-weight: 500; color: var(--muted); }
.total {
  padding: 8px 16px; margin: 0; display: flex; flex-wrap: wrap; align-items: baseline;
  column-gap: 10px;
}
.total h2 { flex-basis: 100%; }
.total .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.total .muted { font-size: 12.5px; min-width: 0; }
.section-head { display: flex; align-items: center; gap: 16px; margin-bottom: 10px; }
.section-head h2 { white-space: nowrap; }
.count { color: var(--muted); font-weight: 400; margin-left: 4px; }
.summary { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.filter { display: flex; align-items: center; gap: 8px; color: var(--muted); }
.filter input { width: 220px; color: var(--text); }
.legend {
  display: flex; gap: 14px; margin: 0 0 0 auto; padding: 0; list-style: none;
  color: var(--muted); font-size: 12.5px;
}
.legend li { display: flex; align-items: center; gap: 5px; }
.swatch { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
.scroll { overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll.targets { max-height: 44vh; }
.scroll.deliveries { max-height: 50vh; }
.toolbar .message {
  flex: 1 1 320px; margin: 0 0 0 8px; padding: 4px 10px; font-size: 13px;
}
/* On a laptop screen or larger, the page fills the window and each table scrolls in its card,
   so the totals, the targets and the chosen target's deliveries are all in sight at once. */
@media (min-width: 1000px) and (min-height: 640px) {
  body { height: 100vh; display: flex; flex-direction: column; }
  main { flex: 1; min-height: 0; width: 100%; display: flex; flex-direction: column; }
  #dashboard:not([hidden]) { flex: 1; min-height: 0; display: flex; flex-direction: column; }
  .fill { display: flex; flex-direction: column; min-height: 160px; margin-bottom: 0; }
  .targets-card { flex: 1 1 0; margin-bottom: 16px; }
  .panel-card { flex: 1 1 0; }
  /* Until a target is chosen, the targets take the room. */
  .panel-card:has(#target-detail[hidden]),
  .panel-card:has(#deliveries-scroll[hidden]) { flex: none; min-height: 0; }
  #target-detail:not([hidden]) { flex: 1; min-height: 0; display: flex; flex-direction: column; }
  .scroll.targets, .scroll.deliveries { flex: 1; min-height: 0; max-height: none; }
  main { padding-bottom: 16px; }
}
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td {
  padding: 5px 10px; text-align: left; vertical-align: middle;
  border-bottom: 1px solid var(--line); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap;
}
thead th {
  position: sticky; top: 0; z-index: 1; background: var(--card);
  font-size: 12.5px; font-weight: 600; color: var(--muted);
}
tbody tr:last-child > * { border-bottom: none; }
tbody th { font-weight: 400; }
.number { text-align: right; font-variant-numeric: tabular-nums; }
td.alarm { color: var(--failed); font-weight: 600; }
tr.chosen > * { background: var(--chosen); }
col.path { width: 24%; }
col.state { width: 220px; }
col.failures { width: 150px; }
col.success { width: 116px; }
col.activity { width: 172px; }
button.choose {
  border: none; background: none; padding: 0; color: var(--accent); font-weight: 600;
  max-width: 100%; overflow: hidden; text-overflow: ellipsis; text-align: left;
}
button.choose:hover { text-decoration: underline; }
.name { color: var(--muted); font-size: 12px; margin-left: 8px; }
td.url {
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px;
}
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; line-height: 1.5;
}
.badge.active, .badge.success { color: var(--success); }
.badge.failing, .badge.failed, .badge.disabled { color: var(--failed); }
.badge.paused, .badge.skipped { color: var(--skipped); }
.badge.pending { color: var(--pending); }
.reason { color: var(--muted); font-size: 12px; margin-left: 6px; }
.chart { display: block; }
.chart .slot { fill: var(--slot); }
.segment.success, .swatch.success { fill: var(--success); background: var(--success); }
.segment.failed, .swatch.failed { fill: var(--failed); background: var(--failed); }
.segment.skipped, .swatch.skipped { fill: var(--skipped); background: var(--skipped); }
.segment.pending, .swatch.pending { fill: var(--pending); background: var(--pending); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 10px; }
.replay { display: flex; align-items: center; gap: 6px; margin-left: 8px; }
col.id { width: 84px; }
col.event { width: 190px; }
col.outcome { width: 100px; }
col.attempts { width: 92px; }
col.status { width: 72px; }
col.time { width: 120px; }
col.time + col.time { width: 210px; }
col.action { width: 112px; }
td.error { color: var(--muted); }
td.action { text-align: right; }
@media (max-width: 999px) {
  .totals { grid-template-columns: repeat(2, 1fr); }
  /* Narrower than this, the columns would crush each other: the tables scroll sideways. */
  .scroll table { min-width: 960px; }
  .section-head { flex-wrap: wrap; }
  main, .top { padding-left: 12px; padding-right: 12px; }
}
`;
