package io.actorimages.messages;

/**
 * Marker for every message and every replicated value that may leave the JVM (remoting, Distributed Data,
 * the {@code ImageStored} topic). Bound to Pekko's {@code jackson-cbor} serializer in this module's
 * {@code reference.conf}; Java serialization stays off.
 */
public interface CborSerializable {}
