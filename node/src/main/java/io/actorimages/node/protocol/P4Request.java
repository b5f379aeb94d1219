package io.actorimages.node.protocol;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * The request of a P4 peer transfer (PROTOCOLS.md P4): the ASCII text {@code GET <md5>} with no terminator,
 * possibly split over several TCP segments. The caller accumulates what arrived and asks {@link #parse} after each
 * segment until it is no longer {@link NeedMore}; the short timeout while it waits is the caller's.
 */
public sealed interface P4Request {

  /** Bytes in a whole request: {@code "GET "} and 32 hex characters. */
  int REQUEST_BYTES = 4 + Ascii.MD5_HEX_LENGTH;

  /** What arrived so far is a proper prefix of a valid request: keep reading. */
  record NeedMore() implements P4Request {}

  /**
   * A whole request.
   *
   * @param md5 32 lowercase hex characters, whatever case the client sent
   */
  record Get(String md5) implements P4Request {}

  /** What arrived can no longer become a request: close without data, as for an unknown md5. */
  record Invalid() implements P4Request {}

  /**
   * Classifies the bytes received so far. {@code GET} must be uppercase followed by one space, as the seeds'
   * clients send it; the md5 may be in either case. Bytes after the 36th (a {@code \r\n} from a hand-typed
   * request, say) are ignored, since a legacy client sends nothing after the md5 and waits for EOF.
   *
   * @param received every byte of the connection so far, from the first
   * @return {@link Get} once 36 valid bytes are in, {@link NeedMore} while fewer are in and all are valid (also
   *     for no bytes at all), else {@link Invalid} (as soon as one byte rules the request out)
   */
  static P4Request parse(ByteString received) {
    int available = Math.min(received.length(), REQUEST_BYTES);
    for (int i = 0; i < available; i++) {
      int b = received.apply(i) & 0xff;
      boolean valid = i < 4 ? b == "GET ".charAt(i) : Ascii.isHexDigit(b);
      if (!valid) {
        return new Invalid();
      }
    }
    if (available < REQUEST_BYTES) {
      return new NeedMore();
    }
    String md5 = received.slice(4, REQUEST_BYTES).decodeString(StandardCharsets.US_ASCII);
    return new Get(Ascii.toLowerCase(md5));
  }
}
