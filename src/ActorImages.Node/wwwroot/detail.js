// The image dialog: the full image with its metadata and the nodes holding it.
import { contentUrl, el, formatBytes, formatTime, hasNoThumbnail, loadPreview, protocolLabel, thumbnailUrl } from './format.js';

const dialog = document.getElementById('detail');
/** The image the dialog shows (a preview that arrives for another one is dropped). */
let shown = null;

/** Opens the dialog for `image` (the JSON of /api/images/{md5}). */
export function showImage(image) {
  shown = image;
  const img = document.getElementById('detail-image');
  const note = document.getElementById('detail-note');
  note.hidden = true;
  img.hidden = false;
  img.classList.remove('fallback');
  // Browsers show JPEG, PNG, GIF, BMP and WebP but not TIFF, nor HEIC and HEIF (most browsers): then the thumbnail at
  // once and the preview (a JPEG of up to 2048 px, made like the thumbnail: a second or two from a phone's primary
  // image) in its place when it comes. Without them (a node without libheif's renderer): a note, and the button
  // below downloads the original.
  img.onerror = () => {
    img.onerror = null;
    if (hasNoThumbnail(image)) {
      img.hidden = true;
      note.textContent = `This browser cannot show ${image.mediaType}; “Open original” downloads it as it was sent.`;
    } else {
      img.classList.add('fallback');
      img.src = thumbnailUrl(image);
      loadPreview(image, () => shown === image && dialog.open && img.classList.contains('fallback'), (url) => {
        img.src = url;
      });
      note.textContent = 'This browser cannot show the original\'s format; this is a JPEG preview of it.';
    }
    note.hidden = false;
  };
  img.src = contentUrl(image);
  img.alt = image.filename;
  document.getElementById('detail-filename').textContent = image.filename;
  document.getElementById('detail-open').href = contentUrl(image);
  const facts = [
    ['Uploader', image.uploader],
    ['Protocol', protocolLabel(image.protocol)],
    ['Received', formatTime(image.receivedAt)],
    ['Size', `${formatBytes(image.size)} · ${image.width} × ${image.height} px · ${image.mediaType}`],
    ['Held by', image.nodes.length ? image.nodes.join(', ') : 'no node'],
    ['MD5', image.md5, 'hash'],
    ['SHA-256', image.sha256, 'hash'],
  ];
  document.getElementById('detail-facts').replaceChildren(
    ...facts.map(([name, value, kind]) => el('div', {}, el('dt', {}, name), el('dd', { class: kind }, value))));
  dialog.dataset.md5 = image.md5;
  if (!dialog.open) dialog.showModal();
}

// A click on the backdrop (outside the dialog's box) closes it, as people expect of a lightbox.
dialog.addEventListener('click', (event) => {
  if (event.target === dialog) dialog.close();
});
dialog.addEventListener('close', () => {
  document.getElementById('detail-image').removeAttribute('src');
});
