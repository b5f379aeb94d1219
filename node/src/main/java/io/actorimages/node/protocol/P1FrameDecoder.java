package io.actorimages.node.protocol;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Incremental decoder of the P1 ingest stream (PROTOCOLS.md P1): frames back to back, each a 4-byte unsigned
 * big-endian length {@code N} followed by exactly {@code N} bytes of one image file. The legacy camera client sends
 * one frame and closes; we accept any number of frames until the client closes.
 *
 * <p>Feed it the chunks as TCP delivers them, in any sizes: a header split over several chunks (even 1-byte
 * chunks) is reassembled, and body bytes are handed on as slices of the chunks, so a 64 MiB image is never held
 * whole. At EOF, ask {@link #midFrame()} whether the upload was truncated.
 *
 * <p>Not thread-safe: one decoder per connection, fed from one stream stage or actor.
 */
public final class P1FrameDecoder {

  private static final int HEADER_BYTES = 4;

  private final long maxImageBytes;
  /** Header bytes of the next frame read so far, 0 to 3. */
  private int headerBytesRead;
  /** The length accumulated from those header bytes. */
  private long announced;
  /** Body bytes of the current frame still to come; 0 while reading a header. */
  private long bodyRemaining;
  private boolean failed;

  /**
   * @param maxImageBytes the largest accepted frame body, in bytes ({@code max-image-bytes}, default 64 MiB)
   * @throws IllegalArgumentException if {@code maxImageBytes < 1}
   */
  public P1FrameDecoder(long maxImageBytes) {
    if (maxImageBytes < 1) {
      throw new IllegalArgumentException("maxImageBytes must be at least 1, was " + maxImageBytes);
    }
    this.maxImageBytes = maxImageBytes;
  }

  /**
   * Decodes the next chunk of the stream.
   *
   * @param chunk the bytes received, possibly empty; any split of the stream is accepted
   * @return the events this chunk completes, in stream order (see {@link P1Event}); empty when the chunk only
   *     advanced a header. {@link P1Event.FrameBytes} are never empty and share the chunk's storage
   * @throws P1FrameException if a header announces {@code N = 0} or {@code N > maxImageBytes}; it is thrown as
   *     soon as the fourth header byte is seen, before any of the {@code N} bytes is awaited or allocated. Events
   *     of this chunk before that header are in {@link P1FrameException#eventsBefore()}. The decoder is then
   *     spent
   * @throws IllegalStateException if called again after a {@link P1FrameException}
   */
  public List<P1Event> feed(ByteString chunk) throws P1FrameException {
    if (failed) {
      throw new IllegalStateException("P1 decoder already refused a frame; the connection must be closed");
    }
    List<P1Event> events = new ArrayList<>(4);
    int position = 0;
    int end = chunk.length();
    while (position < end) {
      if (bodyRemaining == 0) {
        announced = (announced << 8) | (chunk.apply(position++) & 0xff);
        if (++headerBytesRead == HEADER_BYTES) {
          startFrame(events);
        }
      } else {
        int take = (int) Math.min(bodyRemaining, end - position);
        events.add(new P1Event.FrameBytes(chunk.slice(position, position + take)));
        position += take;
        bodyRemaining -= take;
        if (bodyRemaining == 0) {
          events.add(new P1Event.FrameEnd());
        }
      }
    }
    return events;
  }

  /**
   * Whether EOF now would cut a frame short: a header is partly read, or a body is incomplete. The caller then
   * discards the partial upload (PROTOCOLS.md P1: "no partial file ever becomes visible"). False before the first
   * byte and right after a {@link P1Event.FrameEnd}.
   */
  public boolean midFrame() {
    return headerBytesRead > 0 || bodyRemaining > 0;
  }

  private void startFrame(List<P1Event> events) throws P1FrameException {
    long length = announced;
    headerBytesRead = 0;
    announced = 0;
    if (length == 0 || length > maxImageBytes) {
      // Refused before anything is sized by N: a hostile header must not make us reserve 4 GiB.
      failed = true;
      throw new P1FrameException(length, maxImageBytes, events);
    }
    bodyRemaining = length;
    events.add(new P1Event.FrameStart(length));
  }
}
