package io.actorimages.node.protocol;

import java.util.List;

/**
 * A P1 frame header announced a length the node refuses: 0, or more than {@code max-image-bytes} (PROTOCOLS.md
 * P1 "Bad input"). The connection must be closed at once; nothing of that frame was or will be produced.
 */
public final class P1FrameException extends Exception {

  /** Version of the serial form. */
  private static final long serialVersionUID = 1L;

  /** The refused length in bytes. */
  private final long length;
  /** Transient: the events hold ByteStrings of a live connection, meaningless in another JVM. */
  private final transient List<P1Event> eventsBefore;

  /**
   * @param length       the refused length in bytes, as announced (unsigned, 0 to 2^32 − 1)
   * @param maxImageBytes the limit in force, in bytes, for the message
   * @param eventsBefore the events of the same chunk that precede the refused header
   */
  P1FrameException(long length, long maxImageBytes, List<P1Event> eventsBefore) {
    super(length == 0
        ? "P1 frame announces length 0"
        : "P1 frame announces length " + length + " bytes, above max-image-bytes " + maxImageBytes);
    this.length = length;
    this.eventsBefore = List.copyOf(eventsBefore);
  }

  /** The refused length in bytes, as the header announced it (unsigned 32-bit, so 0 to 4,294,967,295). */
  public long length() {
    return length;
  }

  /**
   * The events that the same {@link P1FrameDecoder#feed} call decoded before it reached the refused header, in
   * order: only the ends of frames that were already under way or whole frames, never a partial one. Handle them
   * as if {@code feed} had returned them, so a frame received whole is stored whatever the TCP segmentation was
   * (PROTOCOLS.md P1: "a frame received whole is stored"); then close. Empty when the header came first.
   */
  public List<P1Event> eventsBefore() {
    return eventsBefore == null ? List.of() : eventsBefore;
  }
}
