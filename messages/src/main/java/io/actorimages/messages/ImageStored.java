package io.actorimages.messages;

/**
 * Published on the cluster-wide {@code image-stored} topic once an entry is committed to the catalog; the web
 * viewer and every WebSocket gateway (P2 {@code NEW_UPLOAD}) listen to it.
 *
 * @param entry the committed catalog entry
 */
public record ImageStored(CatalogEntry entry) implements CborSerializable {}
