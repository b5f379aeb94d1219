// Upload: file picker and drag-and-drop, several files, one XHR each (fetch reports no upload progress),
// two at a time so a long file does not hold the others back.
import { showImage } from './detail.js';
import { el, formatBytes } from './format.js';

const PARALLEL = 2;
const queue = [];
let running = 0;

const list = document.getElementById('upload-list');
const uploaderInput = document.getElementById('upload-uploader');

function row(file) {
  const bar = el('progress', { max: 100, value: 0 });
  const status = el('span', { class: 'status muted' }, 'Waiting');
  const item = el('li', { class: 'upload', 'data-state': 'waiting', 'data-filename': file.name },
    el('div', { class: 'upload-name' }, el('strong', {}, file.name), el('span', { class: 'muted' }, formatBytes(file.size))),
    bar, status);
  list.prepend(item);
  return { item, bar, status };
}

function send({ file, item, bar, status }) {
  running++;
  item.dataset.state = 'uploading';
  status.textContent = 'Uploading';
  const query = new URLSearchParams({ filename: file.name });
  const uploader = uploaderInput.value.trim();
  if (uploader) query.set('uploader', uploader);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/images?${query}`);
  xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
  xhr.upload.addEventListener('progress', (event) => {
    if (!event.lengthComputable) return;
    const percent = Math.round((event.loaded / event.total) * 100);
    bar.value = percent;
    status.textContent = percent < 100 ? `${percent} %` : 'Storing…';
  });
  xhr.addEventListener('load', () => {
    let body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      // a proxy's HTML error page: the status line says enough
    }
    if (xhr.status === 201 && body) {
      bar.value = 100;
      item.dataset.state = 'done';
      item.dataset.md5 = body.md5;
      status.className = 'status ok';
      status.replaceChildren(`Stored · ${body.width} × ${body.height} on ${body.nodes.join(', ')} · `,
        el('a', { href: '#', onclick: (e) => { e.preventDefault(); showImage(body); } }, 'view'));
    } else {
      failed(item, status, body?.error ?? `HTTP ${xhr.status}`);
    }
    done();
  });
  xhr.addEventListener('error', () => {
    failed(item, status, 'connection to the node lost');
    done();
  });
  xhr.send(file);
}

function failed(item, status, reason) {
  item.dataset.state = 'failed';
  status.className = 'status error';
  status.textContent = `Failed: ${reason}`;
}

function done() {
  running--;
  pump();
}

function pump() {
  while (running < PARALLEL && queue.length) send(queue.shift());
}

function add(files) {
  for (const file of files) queue.push({ file, ...row(file) });
  pump();
}

/** Starts the view. */
export function start() {
  uploaderInput.value = localStorage.getItem('actorimages.uploader') ?? '';
  uploaderInput.addEventListener('change', () =>
    localStorage.setItem('actorimages.uploader', uploaderInput.value.trim()));
  const input = document.getElementById('upload-input');
  input.addEventListener('change', () => {
    add([...input.files]);
    input.value = '';
  });
  const zone = document.getElementById('dropzone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    add([...event.dataTransfer.files]);
  });
  // A file dropped anywhere else on the page would make the browser navigate away to it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}
