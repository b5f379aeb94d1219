// Formatting and small DOM helpers shared by the views.

const PROTOCOLS = { P1_TCP: 'P1 · TCP', P2_WEBSOCKET: 'P2 · WebSocket', HTTP: 'HTTP' };

/** A protocol as people read it: "P1 · TCP". */
export function protocolLabel(protocol) {
  return PROTOCOLS[protocol] ?? protocol;
}

/** 1536 → "1.5 KB" (powers of 1024, as `ls -h` and the README's sizes). */
export function formatBytes(bytes) {
  if (bytes == null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An ISO-8601 instant in the browser's time zone. */
export function formatTime(iso) {
  return TIME.format(new Date(iso));
}

/** "12 s ago", "3 min ago", "2 h ago", else the date. */
export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatTime(iso);
}

/** The day of an ISO instant in the browser's time zone, as the date input gives it: "2026-11-22". */
export function localDay(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** An element with attributes and children; strings become text, never HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child != null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * Whether the node makes no thumbnail of `image`: the API says so (`thumbnail: false`) for HEIC, HEIF and AVIF when the
 * node has no renderer for them (libheif's heif-thumbnailer is not installed); it still stores and serves them as sent.
 * A browser may still show the original: AVIF everywhere, HEIC in Safari.
 */
export function hasNoThumbnail(image) {
  return image.thumbnail === false;
}

/**
 * The URLs of an image's bytes, thumbnail (longest side at most 256 px) and preview on this node: the preview is a JPEG
 * of at most 2048 px, for what the browser cannot show (TIFF; HEIC and HEIF in most browsers).
 */
export function contentUrl(image) {
  return `/api/images/${image.md5}/content`;
}

export function thumbnailUrl(image) {
  return `/api/images/${image.md5}/thumbnail`;
}

export function previewUrl(image) {
  return `/api/images/${image.md5}/preview`;
}

/**
 * Loads the preview of `image` and hands its URL to `show` while `wanted()` holds: first after `delay` ms (so that
 * images arriving in a burst do not each ask for one), then again every 3 s after a failure, 5 tries at most. A node
 * answers 503 at once while it is busy with other previews (README "HTTP API").
 */
export function loadPreview(image, wanted, show, delay = 0) {
  let tries = 0;
  const attempt = () => {
    if (!wanted()) return;
    const preview = new Image();
    preview.onload = () => {
      if (wanted()) show(preview.src);
    };
    preview.onerror = () => {
      if (++tries < 5) setTimeout(attempt, 3000);
    };
    preview.src = previewUrl(image);
  };
  setTimeout(attempt, delay);
}
