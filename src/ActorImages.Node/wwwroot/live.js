// The live feed: one EventSource on /api/events, shared by every view. The browser reconnects by itself
// after a drop; each reconnect starts with a fresh `cluster` event, so nothing needs replaying but images
// stored while the connection was down, which the views reload on `reconnected`.

const feed = new EventTarget();
let source;
let everOpened = false;
let lastCluster = null;
let connected = false;

/** Subscribes `listener` to `cluster`, `image-stored`, `status` (connected or not) or `reconnected`. */
export function on(type, listener) {
  feed.addEventListener(type, (event) => listener(event.detail));
  if (type === 'cluster' && lastCluster) listener(lastCluster);
}

/** The last `cluster` event, or null before the first. */
export function cluster() {
  return lastCluster;
}

function emit(type, detail) {
  feed.dispatchEvent(new CustomEvent(type, { detail }));
}

/** Opens the feed; call once. */
export function connect() {
  source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    if (everOpened) emit('reconnected', {});
    everOpened = true;
  });
  source.addEventListener('error', () => {
    connected = false;
    emit('status', { connected });
  });
  source.addEventListener('cluster', (event) => {
    lastCluster = JSON.parse(event.data);
    // Live only once the node's first event is in: from then on, its topic subscription is in place.
    if (!connected) {
      connected = true;
      emit('status', { connected });
    }
    emit('cluster', lastCluster);
  });
  source.addEventListener('image-stored', (event) => emit('image-stored', JSON.parse(event.data)));
}
