// ActorImages web viewer: four views over one live feed. Plain ES modules served by the node itself; no
// build step, no CDN, so it works on machines without internet access.
import * as cluster from './cluster.js';
import * as gallery from './gallery.js';
import * as latest from './latest.js';
import * as live from './live.js';
import * as upload from './upload.js';

const VIEWS = ['latest', 'gallery', 'upload', 'cluster'];

function route() {
  const name = location.hash.replace(/^#\/?/, '');
  const view = VIEWS.includes(name) ? name : 'latest';
  for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== view;
  for (const link of document.querySelectorAll('.tabs a')) {
    link.toggleAttribute('aria-current', link.dataset.view === view);
  }
  document.title = `ActorImages · ${view[0].toUpperCase()}${view.slice(1)}`;
}

live.on('status', ({ connected }) => {
  const indicator = document.getElementById('live');
  indicator.dataset.live = connected ? 'on' : 'off';
  indicator.querySelector('.label').textContent = connected ? 'Live' : 'Reconnecting…';
});

window.addEventListener('hashchange', route);
route();
latest.start();
gallery.start();
upload.start();
cluster.start();
live.connect();
