// Cluster: members and their state, the tracker singleton's host, images and bytes per node; every
// `cluster` event (on connect, then every 2 s) redraws it. A member that is no longer listed stays as "Left",
// so a person sees a node go rather than a row silently vanish.
import { el, formatBytes } from './format.js';
import * as live from './live.js';

const departed = new Map(); // host → time it was last seen
let lastHosts = new Set();

function render(status) {
  document.getElementById('self-host').textContent = status.self;
  const stats = status.stats ?? { images: null, bytes: null, perHost: {}, bytesByHost: {} };
  const hosts = new Set(status.members.map((m) => m.host));
  for (const host of lastHosts) if (!hosts.has(host)) departed.set(host, new Date());
  for (const host of hosts) departed.delete(host);
  lastHosts = hosts;

  const up = status.members.filter((m) => m.status === 'Up' && m.reachable).length;
  document.getElementById('cluster-up').textContent = `${up} of ${status.members.length}`;
  document.getElementById('cluster-images').textContent = stats.images ?? '–';
  document.getElementById('cluster-bytes').textContent = formatBytes(stats.bytes);
  document.getElementById('cluster-tracker').textContent = status.trackerHost ?? 'not reachable';

  const rows = status.members.map((m) => {
    const badges = [
      m.host === status.self ? el('span', { class: 'tag' }, 'this node') : null,
      m.host === status.leader ? el('span', { class: 'tag' }, 'leader') : null,
      m.host === status.trackerHost ? el('span', { class: 'tag accent' }, 'tracker') : null,
    ];
    const state = m.reachable ? m.status : 'Unreachable';
    return el('tr', { 'data-host': m.host, 'data-status': state },
      el('td', {}, el('span', { class: 'host' }, m.host), ...badges),
      el('td', {}, el('span', { class: `pill ${state.toLowerCase()}` }, state)),
      el('td', {}, m.reachable ? 'yes' : 'no'),
      el('td', { class: 'address' }, m.address),
      el('td', { class: 'num' }, stats.perHost[m.host] ?? 0),
      el('td', { class: 'num' }, formatBytes(stats.bytesByHost[m.host] ?? 0)));
  });
  for (const [host, when] of departed) {
    rows.push(el('tr', { 'data-host': host, 'data-status': 'Left', class: 'gone' },
      el('td', {}, el('span', { class: 'host' }, host)),
      el('td', {}, el('span', { class: 'pill left' }, 'Left')),
      el('td', {}, '–'),
      el('td', { class: 'address' }, `gone since ${when.toLocaleTimeString()}`),
      el('td', { class: 'num' }, stats.perHost[host] ?? 0),
      el('td', { class: 'num' }, formatBytes(stats.bytesByHost[host] ?? 0))));
  }
  document.getElementById('cluster-members').replaceChildren(...rows);
  document.getElementById('cluster-updated').textContent =
    `As seen by ${status.self} at ${new Date().toLocaleTimeString()}; refreshed every 2 s.`;
}

/** Starts the view. */
export function start() {
  live.on('cluster', render);
}
