package io.actorimages.messages;

/** The way an image entered the cluster; shown in the catalog and the viewer. */
public enum SourceProtocol {
  /** PROTOCOLS.md P1: TCP ingest of length-prefixed frames (seed 000 cameras). */
  P1_TCP,
  /** PROTOCOLS.md P2: WebSocket {@code UPLOAD} (seed 001 clients). */
  P2_WEBSOCKET,
  /** The HTTP API and the web viewer's upload. */
  HTTP
}
