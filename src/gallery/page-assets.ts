/**
 * The page's stylesheet and script, served as files so the CSP needs no inline code.
 * The script only enhances: a filter box and a gentle refresh that swaps in the
 * server-rendered cards (parsed, never executed) while the tab is visible.
 */

export const GALLERY_CSS = `:root{color-scheme:light;--fg:#1b1f24;--muted:#4a5360;--bg:#f6f7f9;--card:#fff;--line:#d0d5dc;--link:#0b57d0}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.25rem}
h1{margin:.25rem 0;font-size:1.75rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
h3{margin:0;font-size:1.1rem;overflow-wrap:anywhere}
a{color:var(--link)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.counts{margin:.25rem 0;font-size:1.1rem}
.updated,.week-count,.checked,.login{color:var(--muted);font-size:.9rem}
.week-count{font-weight:normal;margin-left:.5rem}
.filter{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:1rem 0}
.filter[hidden]{display:none}
.filter input{font:inherit;padding:.4rem .6rem;border:1px solid #6b7480;border-radius:.375rem;min-width:min(20rem,100%)}
.cards{list-style:none;margin:0;padding:0;display:grid;gap:.75rem;align-items:start;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr))}
.card{background:var(--card);border:1px solid var(--line);border-left:.4rem solid var(--line);border-radius:.5rem;padding:.75rem 1rem;overflow-wrap:anywhere;min-width:0;overflow:hidden}
.card[hidden]{display:none}
.card p{margin:.25rem 0}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.9rem;background:#eceff3;color:#333b45}
.status-live{border-left-color:#1a7f37}.status-live .badge{background:#dafbe1;color:#0f5323}
.status-mismatch{border-left-color:#9a6700}.status-mismatch .badge{background:#fff8c5;color:#6a4300}
.status-invalid,.status-error,.status-timeout,.status-unreachable{border-left-color:#cf222e}
.status-invalid .badge,.status-error .badge,.status-timeout .badge,.status-unreachable .badge{background:#ffebe9;color:#a40e26}
.status-not-deployed .badge,.status-pending .badge{background:#eaeef2;color:#3d444d}
.reason{color:#3d444d;font-size:.9rem}
.said{font-size:.85rem;color:var(--muted);margin-top:.5rem}
.answer{display:grid;grid-template-columns:auto minmax(0,1fr);gap:0 .5rem;margin:.25rem 0;font-size:.9rem}
.answer dt{color:var(--muted);font-family:ui-monospace,monospace;font-size:.8rem}
.answer dd{margin:0}
footer{color:var(--muted);font-size:.9rem;padding-bottom:2rem;margin-top:2rem}
@media (max-width:30rem){h1{font-size:1.4rem}.cards{grid-template-columns:1fr}}
`;

export const GALLERY_JS = `'use strict';
(function () {
  var form = document.getElementById('filter-form');
  var input = document.getElementById('filter');
  if (!form || !input) return;
  form.hidden = false;
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  function apply() {
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll('#weeks .card').forEach(function (card) {
      var match = query === '' || (card.getAttribute('data-search') || '').indexOf(query) !== -1;
      card.hidden = !match;
      if (match) shown += 1;
    });
    document.querySelectorAll('#weeks section').forEach(function (section) {
      section.hidden = section.querySelector('.card:not([hidden])') === null;
    });
    document.getElementById('filter-result').textContent = query === '' ? '' : shown + (shown === 1 ? ' student' : ' students') + ' shown';
  }
  input.addEventListener('input', apply);
  var seconds = Number(document.body.getAttribute('data-refresh-seconds')) || 30;
  function refresh() {
    if (document.visibilityState !== 'visible') return;
    fetch(location.pathname, { headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var next = new DOMParser().parseFromString(html, 'text/html');
        ['weeks', 'counts', 'updated'].forEach(function (id) {
          var fresh = next.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) current.replaceWith(document.importNode(fresh, true));
        });
        apply();
      })
      .catch(function () { /* offline for a moment: keep what is shown */ });
  }
  setInterval(refresh, Math.max(seconds, 5) * 1000);
})();
`;
