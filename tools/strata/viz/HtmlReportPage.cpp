//===- HtmlReportPage.cpp - The HTML report's style and script ------------===//
//
// Plain CSS and ES5-level JavaScript with no library, so that the page
// opens offline in any browser. The script draws the arena timeline of the
// chosen device and program on a <canvas> (only that device's buffers are
// visited) and renders the buffer table a page of rows at a time, filtered
// by every word typed, so that 50,000 buffers stay quick.
//
//===----------------------------------------------------------------------===//

#include "tools/strata/viz/HtmlReportPage.h"

namespace strata::viz {

const char HtmlReportStyle[] = R"css(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 24px 40px; color: #222; background: #fff; }
header h1 { font-size: 22px; margin: 16px 0 4px; }
header p { margin: 0 0 8px; color: #555; }
nav { position: sticky; top: 0; background: #f6f6f6; padding: 6px 8px; border-bottom: 1px solid #ddd; z-index: 2; }
nav a { margin-right: 12px; color: #2255aa; text-decoration: none; }
#status { color: #777; float: right; }
h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid #eee; }
h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.r, table.num td { text-align: right; font-variant-numeric: tabular-nums; }
table.num td:first-child { text-align: left; }
svg text { font-size: 11px; fill: #333; }
svg text.tick { fill: #777; }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #bbb; }
.kvbar { display: inline-block; height: 10px; }
.canvas-box { position: relative; margin-top: 6px; }
#tl-canvas { border: 1px solid #ddd; max-width: 100%; }
#tl-tip { position: absolute; display: none; pointer-events: none; background: #fffbe6; border: 1px solid #caa; padding: 3px 6px; font-size: 12px; white-space: pre; }
#tensor-table td { font-size: 12px; }
)css";

const char HtmlReportScript[] = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('plan-data').textContent);
  var B = data.buffers, S = data.strings, N = B.name.length;
  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  function fmtBytes(b) {
    if (b < 1024) return b + ' B';
    var v = b, u = 0;
    while (v >= 1024 && u + 1 < UNITS.length) { v /= 1024; u++; }
    return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + ' ' + UNITS[u];
  }
  function loc(l) { return l >= 0 ? data.devices[l].name : (l === -1 ? 'host' : 'disk'); }
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return ESC[c]; }); }
  function $(id) { return document.getElementById(id); }

  // --- The buffer table: a page of rows at a time. ---
  var PAGE = 100, page = 0, matches = null, haystack = null;
  function total() { return matches ? matches.length : N; }
  function live(i) {
    return B.first[i] >= 0 && B.program[i] >= 0
      ? data.programs[B.program[i]].name + ' ' + B.first[i] + '-' + B.last[i] : '';
  }
  function renderTable() {
    var n = total(), pages = Math.max(1, Math.ceil(n / PAGE));
    if (page >= pages) page = pages - 1;
    if (page < 0) page = 0;
    var from = page * PAGE, to = Math.min(n, from + PAGE), rows = [];
    for (var k = from; k < to; k++) {
      var i = matches ? matches[k] : k;
      var region = B.region[i] >= 0 ? S[B.region[i]] + ' +' + B.offset[i] : '';
      rows.push('<tr><td class="r">' + i + '</td><td>' + esc(B.name[i]) + '</td><td>' +
        esc(S[B.kind[i]]) + '</td><td class="r">' + fmtBytes(B.bytes[i]) + '</td><td>' +
        esc(S[B.dtype[i]]) + '</td><td>' + esc(S[B.shape[i]]) + '</td><td>' + esc(loc(B.loc[i])) +
        '</td><td class="r">' + (B.layer[i] >= 0 ? B.layer[i] : '') + '</td><td>' + esc(region) +
        '</td><td>' + esc(live(i)) + '</td><td>' + esc(S[B.placed[i]]) + '</td></tr>');
    }
    document.querySelector('#tensor-table tbody').innerHTML = rows.join('');
    $('count').textContent = (n ? (from + 1) + '-' + to : '0') + ' of ' + n + ' matching (' +
      N + ' buffers), page ' + (page + 1) + ' of ' + pages;
  }
  // A word matches where it occurs, except that a digit at either end may
  // not run on into more digits: cpu:1 is not cpu:10, blk.1 not blk.11.
  function isDigit(c) { return c >= '0' && c <= '9'; }
  function hasWord(text, w) {
    var lead = isDigit(w.charAt(0)), trail = isDigit(w.charAt(w.length - 1));
    for (var at = text.indexOf(w); at >= 0; at = text.indexOf(w, at + 1)) {
      if (lead && at > 0 && isDigit(text.charAt(at - 1))) continue;
      if (trail && isDigit(text.charAt(at + w.length))) continue;
      return true;
    }
    return false;
  }
  function applyFilter() {
    var q = $('filter').value.trim().toLowerCase();
    if (!q) {
      matches = null;
    } else {
      if (!haystack) {
        haystack = new Array(N);
        for (var i = 0; i < N; i++)
          haystack[i] = (B.name[i] + ' ' + S[B.kind[i]] + ' ' + loc(B.loc[i]) + ' ' +
            S[B.dtype[i]] + ' ' + S[B.placed[i]]).toLowerCase();
      }
      var words = q.split(/\s+/);
      matches = [];
      for (var j = 0; j < N; j++) {
        var ok = true;
        for (var w = 0; w < words.length && ok; w++) ok = hasWord(haystack[j], words[w]);
        if (ok) matches.push(j);
      }
    }
    page = 0;
    renderTable();
  }
  var timer = null;
  $('filter').addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(applyFilter, 120);
  });
  $('prev').addEventListener('click', function () { page--; renderTable(); });
  $('next').addEventListener('click', function () { page++; renderTable(); });

  // --- The arena timeline of one device and program. ---
  var arenaRegion = S.indexOf('arena'), groups = {};
  for (var i = 0; i < N; i++) {
    if (arenaRegion < 0 || B.region[i] !== arenaRegion || B.view[i] >= 0 || B.loc[i] < 0 ||
        B.program[i] < 0 || B.first[i] < 0) continue;
    var key = B.loc[i] + ':' + B.program[i];
    (groups[key] || (groups[key] = [])).push(i);
  }
  var HUE = { activation: 120, input: 190, staging: 45, workspace: 0 };
  var canvas = $('tl-canvas'), ctx = canvas.getContext('2d'), tip = $('tl-tip');
  var devSel = $('tl-device'), progSel = $('tl-program');
  var view = null; // what is drawn, for hovering
  var L = 70, T = 8, R = 10, BOT = 24;
  data.devices.forEach(function (d, k) {
    var o = document.createElement('option');
    o.value = k; o.textContent = d.name + ' ' + d.label;
    devSel.appendChild(o);
  });
  data.programs.forEach(function (g, k) {
    var o = document.createElement('option');
    o.value = k; o.textContent = g.name + ' (' + g.steps + ' steps)';
    progSel.appendChild(o);
  });
  function draw() {
    var d = +devSel.value, g = +progSel.value;
    if (!(d >= 0) || !(g >= 0) || !data.programs[g]) return;
    var list = groups[d + ':' + g] || [];
    var steps = Math.max(1, data.programs[g].steps);
    var arena = data.devices[d].arenas[data.programs[g].name] || 0;
    for (var k = 0; k < list.length; k++) arena = Math.max(arena, B.offset[list[k]] + B.bytes[list[k]]);
    arena = Math.max(arena, 1);
    var W = Math.max(400, canvas.parentNode.clientWidth - 4), H = 360;
    canvas.width = W; canvas.height = H;
    var pw = W - L - R, ph = H - T - BOT;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = '#999'; ctx.strokeRect(L, T, pw, ph);
    ctx.fillStyle = '#333'; ctx.font = '11px sans-serif';
    ctx.fillText('0', L - 14, T + 10);
    ctx.fillText(fmtBytes(arena), 2, T + ph);
    ctx.fillText('step 0', L, H - 6);
    ctx.fillText('step ' + (steps - 1), L + pw - 60, H - 6);
    for (var m = 0; m < list.length; m++) {
      var i = list[m], hue = HUE[S[B.kind[i]]];
      if (hue === undefined) hue = 280;
      var x = L + B.first[i] / steps * pw, w = Math.max(1, (B.last[i] - B.first[i] + 1) / steps * pw);
      var y = T + B.offset[i] / arena * ph, h = Math.max(1, B.bytes[i] / arena * ph);
      ctx.fillStyle = 'hsl(' + hue + ',45%,' + (38 + (i * 37) % 30) + '%)';
      ctx.fillRect(x, y, w, h);
      if (w > 3 && h > 3) { ctx.strokeStyle = '#fff'; ctx.strokeRect(x, y, w, h); }
    }
    view = { list: list, steps: steps, arena: arena, pw: pw, ph: ph };
    $('tl-info').textContent = list.length + ' buffers, arena ' + fmtBytes(arena) + ', ' +
      steps + ' steps';
  }
  canvas.addEventListener('mousemove', function (e) {
    if (!view) return;
    var r = canvas.getBoundingClientRect();
    var px = (e.clientX - r.left) * canvas.width / r.width, py = (e.clientY - r.top) * canvas.height / r.height;
    var found = -1;
    for (var m = view.list.length - 1; m >= 0 && found < 0; m--) {
      var i = view.list[m];
      var x = L + B.first[i] / view.steps * view.pw, w = Math.max(1, (B.last[i] - B.first[i] + 1) / view.steps * view.pw);
      var y = T + B.offset[i] / view.arena * view.ph, h = Math.max(1, B.bytes[i] / view.arena * view.ph);
      if (px >= x && px <= x + w && py >= y - 1 && py <= y + h + 1) found = i;
    }
    if (found < 0) { tip.style.display = 'none'; return; }
    tip.textContent = B.name[found] + '\n' + S[B.kind[found]] + ', ' + fmtBytes(B.bytes[found]) +
      ' at offset ' + B.offset[found] + '\nlive ' + live(found);
    tip.style.left = (e.clientX - r.left + 12) + 'px';
    tip.style.top = (e.clientY - r.top + 12) + 'px';
    tip.style.display = 'block';
  });
  canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  devSel.addEventListener('change', draw);
  progSel.addEventListener('change', draw);
  window.addEventListener('resize', draw);

  // A link may choose what is shown: #filter=WORDS&device=N&program=NAME.
  var hash = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var eq = kv.indexOf('=');
    if (eq > 0) hash[kv.slice(0, eq)] = decodeURIComponent(kv.slice(eq + 1));
  });
  if (hash.device && data.devices[+hash.device]) devSel.value = hash.device;
  data.programs.forEach(function (g, k) { if (g.name === hash.program) progSel.value = k; });
  if (hash.filter) {
    $('filter').value = hash.filter;
    applyFilter();
  } else {
    renderTable();
  }
  draw();
  $('status').textContent = 'report ready: ' + N + ' buffers on ' + data.devices.length + ' devices';
  document.body.setAttribute('data-ready', 'yes');
})();
)js";

} // namespace strata::viz
