package io.actorimages.node.protocol;

import java.util.Objects;
import org.apache.pekko.util.ByteString;

/**
 * What {@link P1FrameDecoder#feed} finds in the P1 byte stream (PROTOCOLS.md P1): for every frame, one
 * {@link FrameStart}, then zero or more {@link FrameBytes} whose lengths add up to the announced length, then one
 * {@link FrameEnd}. Events of consecutive frames never interleave.
 */
public sealed interface P1Event {

  /**
   * A frame header was read whole and accepted.
   *
   * @param length the announced body length in bytes, {@code 1 ≤ length ≤ maxImageBytes} (at most 2^32 − 1, the
   *     header being an unsigned 32-bit number)
   */
  record FrameStart(long length) implements P1Event {}

  /**
   * Body bytes of the current frame, in order.
   *
   * @param bytes a slice of the chunk that was fed (shares its storage, never a copy); never empty
   */
  record FrameBytes(ByteString bytes) implements P1Event {
    /** @throws NullPointerException if {@code bytes} is null */
    public FrameBytes {
      Objects.requireNonNull(bytes, "bytes");
    }
  }

  /** The last body byte of the current frame has arrived: the frame is whole and may be stored. */
  record FrameEnd() implements P1Event {}
}
