// Latest: the newest image of the whole cluster (seed 000's window), replaced live by `image-stored`.
import { showImage } from './detail.js';
import { ago, contentUrl, el, formatBytes, formatTime, hasNoThumbnail, loadPreview, protocolLabel, thumbnailUrl } from './format.js';
import * as live from './live.js';

const stage = document.getElementById('latest');
const image = document.getElementById('latest-image');
let shown = null;

function newer(candidate) {
  if (!shown) return true;
  const a = Date.parse(candidate.receivedAt);
  const b = Date.parse(shown.receivedAt);
  return a > b || (a === b && candidate.id > shown.id);
}

/**
 * Shows `entry` once its bytes are loaded, so the old image stays until the new one can replace it. When no
 * node can serve the bytes (its holders are down), the caption still changes: the catalog knows the image.
 */
function show(entry) {
  if (!newer(entry)) return;
  shown = entry;
  const loader = new Image();
  // `loaded`: the bytes are shown; else `why` says why not.
  const display = (loaded, why = 'unreachable') => {
    if (shown !== entry) return; // an even newer image arrived meanwhile
    image.hidden = !loaded;
    if (loaded) {
      image.src = loader.src;
      image.alt = entry.filename;
      image.classList.remove('arrived');
      void image.offsetWidth; // restart the fade-in
      image.classList.add('arrived');
    }
    const empty = document.getElementById('latest-empty');
    empty.hidden = loaded;
    if (!loaded && why === 'format') empty.replaceChildren(el('h2', {}, 'Format not shown here'),
      el('p', {}, `This browser cannot show ${entry.mediaType}; the cluster stores and serves it as sent.`));
    else if (!loaded) empty.replaceChildren(el('h2', {}, 'Image not reachable'),
      el('p', {}, 'No node holding it answers right now; it shows as soon as one does.'));
    document.getElementById('latest-caption').hidden = false;
    document.getElementById('latest-filename').textContent = entry.filename;
    document.getElementById('latest-uploader').textContent = entry.uploader;
    document.getElementById('latest-protocol').textContent = protocolLabel(entry.protocol);
    document.getElementById('latest-size').textContent =
      `${formatBytes(entry.size)} · ${entry.width} × ${entry.height}`;
    document.getElementById('latest-nodes').textContent = entry.nodes.join(', ');
    tick();
    stage.dataset.md5 = entry.md5;
    stage.dataset.id = entry.id;
  };
  loader.onload = () => display(true);
  loader.onerror = () => {
    // A format the browser cannot show (TIFF; HEIC and HEIF in most browsers) still has JPEGs made of it: the thumbnail
    // is shown at once, the preview (up to 2048 px; a second or two from a phone's primary image) in its place when it
    // comes (format.js loadPreview). No thumbnail means no node answers. Where the node has no renderer for HEIC and HEIF, they have none: the
    // caption says so.
    if (hasNoThumbnail(entry)) {
      display(false, 'format');
      return;
    }
    loader.onerror = () => display(false);
    loader.onload = () => {
      display(true);
      // After a second, if no newer image has come: a burst of uploads asks for no preview but the last one's.
      loadPreview(entry, () => shown === entry, (url) => {
        image.src = url;
      }, 1000);
    };
    loader.src = thumbnailUrl(entry);
  };
  loader.src = contentUrl(entry);
}

function tick() {
  if (!shown) return;
  const time = document.getElementById('latest-time');
  time.textContent = ago(shown.receivedAt);
  time.title = formatTime(shown.receivedAt);
}

async function loadNewest() {
  const response = await fetch('/api/images?limit=1');
  if (!response.ok) return;
  const page = await response.json();
  if (page.images.length) show(page.images[0]);
}

/** Starts the view: the newest image now, then every new one. */
export function start() {
  live.on('image-stored', show);
  live.on('reconnected', loadNewest);
  document.getElementById('latest-details').addEventListener('click', () => shown && showImage(shown));
  image.addEventListener('click', () => shown && showImage(shown));
  setInterval(tick, 1000);
  loadNewest();
}
