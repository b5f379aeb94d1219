// Gallery: thumbnails newest first from /api/images, page by page. The filters (uploader, protocol, day) run
// in the browser over the pages loaded so far, and more pages load by themselves until the screen has
// FILL matches or the catalog ends: the API pages by recency only, and filtering there belongs to Registry.
import { showImage } from './detail.js';
import { contentUrl, el, formatTime, hasNoThumbnail, localDay, protocolLabel, thumbnailUrl } from './format.js';
import * as live from './live.js';

const PAGE = 60;
const FILL = 48;

const grid = document.getElementById('gallery-grid');
const form = document.getElementById('gallery-filters');
const moreButton = document.getElementById('gallery-more');
const loaded = [];           // every entry loaded, newest first
const ids = new Set();
let next;                    // cursor of the next page; null at the end, undefined before the first
let wanted = FILL;           // matches to show before loading stops
let loading = false;

function filters() {
  const data = new FormData(form);
  return {
    uploader: String(data.get('uploader') ?? '').trim().toLowerCase(),
    protocol: String(data.get('protocol') ?? ''),
    day: String(data.get('day') ?? ''),
  };
}

function matches(image, f) {
  return (!f.uploader || image.uploader.toLowerCase().includes(f.uploader))
    && (!f.protocol || image.protocol === f.protocol)
    && (!f.day || localDay(image.receivedAt) === f.day);
}

function card(image) {
  // Without a thumbnail (a node without libheif's renderer), an AVIF tile shows its original, which every current
  // browser decodes; a HEIC or HEIF tile names its type rather than fetch megabytes that most browsers cannot show.
  const noThumb = () => el('span', { class: 'no-thumb' }, image.mediaType);
  if (hasNoThumbnail(image) && image.mediaType !== 'image/avif') return tile(image, noThumb());
  const source = hasNoThumbnail(image) ? contentUrl(image) : thumbnailUrl(image);
  const thumb = el('img', { src: source, alt: image.filename, loading: 'lazy', decoding: 'async' });
  thumb.addEventListener('error', () => thumb.replaceWith(noThumb()));
  return tile(image, thumb);
}

function tile(image, thumb) {
  return el('button', {
    type: 'button', class: 'tile', 'data-md5': image.md5, 'data-id': image.id,
    title: `${image.filename}\n${image.uploader} · ${protocolLabel(image.protocol)}\n${formatTime(image.receivedAt)}`,
    onclick: () => showImage(image),
  },
  el('span', { class: 'thumb' }, thumb),
  el('span', { class: 'tile-name' }, image.filename),
  el('span', { class: 'tile-meta' }, `${image.uploader} · ${protocolLabel(image.protocol)}`));
}

function render() {
  const f = filters();
  const shown = loaded.filter((image) => matches(image, f));
  grid.replaceChildren(...shown.slice(0, Math.max(wanted, FILL)).map(card));
  const visible = grid.children.length;
  document.getElementById('gallery-count').textContent =
    `${visible} shown · ${loaded.length} loaded${next === null ? ' (all)' : ''}`;
  document.getElementById('gallery-empty').hidden = visible > 0 || loading || next !== null;
  moreButton.hidden = next === null && visible >= shown.length;
  document.getElementById('gallery-end').hidden = !(next === null && loaded.length > 0 && visible >= shown.length);
  const uploaders = [...new Set(loaded.map((image) => image.uploader))].sort();
  document.getElementById('uploaders').replaceChildren(...uploaders.map((u) => el('option', { value: u })));
  return shown.length;
}

async function fill() {
  if (loading) return;
  loading = true;
  try {
    while (next !== null && render() < wanted) {
      const query = new URLSearchParams({ limit: PAGE });
      if (next) query.set('after', next);
      const response = await fetch(`/api/images?${query}`);
      if (!response.ok) break;
      const page = await response.json();
      for (const image of page.images) {
        if (!ids.has(image.id)) {
          ids.add(image.id);
          loaded.push(image);
        }
      }
      next = page.next;
    }
  } finally {
    loading = false;
    render();
  }
}

function arrived(image) {
  if (ids.has(image.id)) return;
  ids.add(image.id);
  loaded.unshift(image);
  wanted++;
  render();
  grid.querySelector(`[data-id="${CSS.escape(image.id)}"]`)?.classList.add('new');
}

function reload() {
  loaded.length = 0;
  ids.clear();
  next = undefined;
  wanted = FILL;
  fill();
}

/** Starts the view: the first pages now, new images live at the top. */
export function start() {
  form.addEventListener('input', () => {
    wanted = FILL;
    fill();
  });
  form.addEventListener('reset', () => setTimeout(() => {
    wanted = FILL;
    fill();
  }));
  moreButton.addEventListener('click', () => {
    wanted += FILL;
    fill();
  });
  // Infinite scroll: the "more" button coming into view loads the next screenful.
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && next !== null && !loading) {
      wanted += FILL;
      fill();
    }
  }, { rootMargin: '400px' }).observe(moreButton.parentElement);
  live.on('image-stored', arrived);
  live.on('reconnected', reload);
  fill();
}
