// p4qos dashboard: renders /api/v1/events (Server-Sent Events). Every
// "status" message is a complete /api/v1/status document; "controller"
// messages are the controller's events. No build step, no dependencies.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#1e88e5', '#8e24aa', '#00897b', '#f4511e', '#6d4c41', '#3949ab', '#c0ca33', '#d81b60'];
let source = null;

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function rate(bps) {
  const units = [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
  for (const [f, u] of units) if (bps >= f) return (bps / f).toPrecision(3) + ' ' + u;
  return Math.round(bps) + ' bit/s';
}

function setConn(state) {
  const c = $('conn');
  c.className = 'conn ' + state;
  c.dataset.state = state;
  c.textContent = { live: 'live', connecting: 'connecting…', disconnected: 'disconnected — reconnecting' }[state];
  document.body.classList.toggle('disconnected', state === 'disconnected');
}

function connect() {
  source = new EventSource('/api/v1/events');
  source.onopen = () => setConn('live');
  source.onerror = () => {
    setConn('disconnected');
    // The browser retries by itself unless the stream was refused outright.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  };
  source.addEventListener('status', (m) => render(JSON.parse(m.data)));
  source.addEventListener('controller', (m) => addEvent(JSON.parse(m.data)));
}

function render(st) {
  $('revision').textContent = st.intent_revision;
  $('rounds').textContent = st.allocation.rounds;
  $('ready').textContent = st.ready ? 'ready' : 'not ready';
  $('ready').dataset.ready = st.ready;
  renderSwitches(st.switches);
  renderFlowGroups(st.allocation.flow_groups);
  renderTopology(st.switches, st.allocation.links);
  renderChart(st.allocation.flow_groups.map((fg) => fg.name), st.allocation.history);
  renderColors(st.classes);
}

function renderSwitches(switches) {
  const body = $('switches').tBodies[0];
  body.replaceChildren(...switches.map((s) => {
    const tr = el('tr', { 'data-switch': s.name });
    tr.append(el('td', {}, s.name),
      el('td', { class: 'stream stream-' + s.stream, 'data-stream': s.stream }, s.stream),
      el('td', { class: 'converged', 'data-converged': s.converged }, s.converged ? 'yes' : 'no'),
      el('td', {}, s.last_reconcile ? new Date(s.last_reconcile).toLocaleTimeString() : '-'),
      el('td', { class: 'num drift', 'data-value': s.drift_repaired }, s.drift_repaired),
      el('td', { class: 'num errors', 'data-value': s.reconcile_errors, title: s.last_error || '' }, s.reconcile_errors));
    return tr;
  }));
}

function renderFlowGroups(fgs) {
  const body = $('flow-groups').tBodies[0];
  body.replaceChildren(...fgs.map((fg) => {
    const tr = el('tr', { 'data-fg': fg.name });
    const num = (field, v) => el('td', { class: 'num ' + field, 'data-bps': v }, rate(v));
    tr.append(el('td', {}, fg.name), el('td', {}, fg.tenant), num('demand', fg.demand_bps),
      num('allocation', fg.allocation_bps), num('enforced', fg.enforced_bps), el('td', { class: 'bottleneck' }, fg.bottleneck || '-'));
    return tr;
  }));
}

// renderTopology draws switches (spines above leaves) and hosts, one line
// per link coloured by the busier direction's load over capacity.
function renderTopology(switches, links) {
  const svg = $('topology');
  const isSwitch = new Set(switches.map((s) => s.name));
  const stream = Object.fromEntries(switches.map((s) => [s.name, s.stream]));
  const pairs = new Map();
  const hasHost = new Set();
  for (const l of links) {
    const key = [l.a, l.b].sort().join('|');
    const p = pairs.get(key) || { a: l.a, b: l.b, util: 0, load: 0, capacity: l.capacity_bps, down: false };
    const u = l.capacity_bps > 0 ? l.load_bps / l.capacity_bps : 0;
    p.capacity = l.capacity_bps;
    if (u >= p.util) { p.util = u; p.load = l.load_bps; }
    p.down = p.down || l.down;
    pairs.set(key, p);
    if (isSwitch.has(l.a) && !isSwitch.has(l.b)) hasHost.add(l.a);
  }
  const nodes = [...new Set([...isSwitch, ...links.flatMap((l) => [l.a, l.b])])].sort();
  const level = (n) => (!isSwitch.has(n) ? 2 : hasHost.has(n) ? 1 : 0);
  const pos = {};
  for (const lv of [0, 1, 2]) {
    const row = nodes.filter((n) => level(n) === lv);
    row.forEach((n, i) => { pos[n] = { x: (900 * (i + 1)) / (row.length + 1), y: 45 + lv * 120 }; });
  }
  const g = [];
  for (const [key, p] of pairs) {
    const a = pos[p.a], b = pos[p.b];
    const color = p.down ? '#999' : p.util < 0.5 ? '#43a047' : p.util < 0.85 ? '#fb8c00' : '#e53935';
    g.push(el('svg:line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: color, 'stroke-width': 2 + 8 * Math.min(p.util, 1),
      'stroke-dasharray': p.down ? '6 4' : '', class: 'link', 'data-link': key, 'data-util': p.util, 'data-load': p.load,
      'data-capacity': p.capacity, 'data-down': p.down }));
    // Labels sit a third of the way from the upper end, so that crossing
    // links and links to neighbouring hosts keep theirs apart.
    const [up, down] = a.y <= b.y ? [a, b] : [b, a];
    const label = el('svg:text', { x: up.x + (down.x - up.x) / 3, y: up.y + (down.y - up.y) / 3, class: 'link-label',
      'text-anchor': 'middle' }, p.down ? 'down' : Math.round(p.util * 100) + '%');
    label.append(el('svg:title', {}, `${key.replace('|', ' – ')}: ${rate(p.load)} of ${rate(p.capacity)}`));
    g.push(label);
  }
  for (const n of nodes) {
    const sw = isSwitch.has(n);
    const fill = !sw ? '#90a4ae' : { primary: '#2e7d32', backup: '#fb8c00', down: '#c62828' }[stream[n]];
    g.push(el('svg:circle', { cx: pos[n].x, cy: pos[n].y, r: sw ? 16 : 10, fill, class: 'node', 'data-node': n }));
    g.push(el('svg:text', { x: pos[n].x + (sw ? 20 : 13), y: pos[n].y + 4 }, n));
  }
  svg.replaceChildren(...g);
}

// renderChart stacks each flow group's allocation over the rounds the
// controller keeps (allocation.history).
function renderChart(names, history) {
  const svg = $('alloc-chart');
  svg.dataset.rounds = history.length;
  const W = 900, H = 260, L = 70, B = 25, T = 10;
  if (history.length === 0) {
    svg.replaceChildren(el('svg:text', { x: L, y: H / 2 }, 'waiting for the first allocation round…'));
    return;
  }
  const total = (h) => names.reduce((s, n) => s + (h.allocation_bps[n] || 0), 0);
  const ymax = Math.max(1, ...history.map(total)) * 1.1;
  const x = (i) => L + (history.length === 1 ? (W - L) / 2 : ((W - L - 10) * i) / (history.length - 1));
  const y = (v) => H - B - ((H - B - T) * v) / ymax;
  const g = [el('svg:line', { x1: L, y1: H - B, x2: W, y2: H - B, stroke: '#999' }),
    el('svg:text', { x: 4, y: T + 10 }, rate(ymax)), el('svg:text', { x: 4, y: H - B }, '0'),
    el('svg:text', { x: L, y: H - 5 }, 'round ' + history[0].round),
    el('svg:text', { x: W - 80, y: H - 5 }, 'round ' + history[history.length - 1].round)];
  const base = history.map(() => 0);
  const legend = [];
  names.forEach((n, k) => {
    const top = history.map((h, i) => base[i] + (h.allocation_bps[n] || 0));
    let pts = top.map((v, i) => x(i) + ',' + y(v));
    let bottom = base.map((v, i) => x(i) + ',' + y(v)).reverse();
    if (history.length === 1) { // one round: a bar
      pts = [(x(0) - 20) + ',' + y(top[0]), (x(0) + 20) + ',' + y(top[0])];
      bottom = [(x(0) + 20) + ',' + y(base[0]), (x(0) - 20) + ',' + y(base[0])];
    }
    const color = COLORS[k % COLORS.length];
    const cur = history[history.length - 1].allocation_bps[n] || 0;
    g.push(el('svg:polygon', { points: pts.concat(bottom).join(' '), fill: color, 'fill-opacity': 0.75,
      class: 'area', 'data-fg': n, 'data-bps': cur }));
    top.forEach((v, i) => { base[i] = v; });
    const item = el('span', { 'data-fg': n });
    item.append(el('i', { style: 'background:' + color }), document.createTextNode(n + ' ' + rate(cur)));
    legend.push(item);
  });
  svg.replaceChildren(...g);
  $('alloc-legend').replaceChildren(...legend);
}

function renderColors(classes) {
  if (!classes.length) return;
  $('colors').replaceChildren(...classes.map((c) => {
    const sum = c.green_packets + c.yellow_packets + c.red_packets || 1;
    const row = el('div', { class: 'class-colors', 'data-class': c.class });
    const bar = el('div', { class: 'bar' });
    const shares = [];
    for (const col of ['green', 'yellow', 'red']) {
      const share = c[col + '_packets'] / sum;
      bar.append(el('div', { class: col, style: 'width:' + (100 * share).toFixed(1) + '%', 'data-share': share }));
      shares.push(col + ' ' + Math.round(100 * share) + '%');
    }
    row.append(el('span', {}, c.class + ': ' + shares.join(', ')), bar);
    return row;
  }));
}

function addEvent(e) {
  const list = $('events');
  const text = [new Date(e.time).toLocaleTimeString(), e.kind, e.switch, e.what, e.count, e.error].filter((v) => v).join(' ');
  list.prepend(el('li', { 'data-kind': e.kind }, text));
  while (list.children.length > 30) list.lastChild.remove();
}

connect();
