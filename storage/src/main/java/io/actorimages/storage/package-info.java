/**
 * The node-local blob store: receives an upload as a stream into a temp file, verifies that it is a whole image
 * of a known format, and commits it under {@code data/YYYY-MM-DD/HHMMSS.<ext>} without ever overwriting
 * (PROTOCOLS.md P1). Plain Java, blocking file I/O, no actors: the Storage actor calls it on its blocking-I/O
 * dispatcher.
 */
package io.actorimages.storage;
