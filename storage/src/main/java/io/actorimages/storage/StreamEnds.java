package io.actorimages.storage;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The first and the last bytes of an upload, collected while it streams past in chunks of any size, so that
 * sniffing and the completeness check never re-read the temp file. Not thread-safe: one per {@link BlobWriter}.
 */
final class StreamEnds {

  /** Bytes kept from the start: enough for every magic number and for the BMP and RIFF size fields. */
  static final int HEAD_BYTES = 16;
  /** Bytes kept from the end: enough for PNG's 12-byte IEND chunk. */
  static final int TAIL_BYTES = 16;

  private final byte[] head = new byte[HEAD_BYTES];
  private int headLength;
  private final byte[] tail = new byte[TAIL_BYTES];
  private int tailLength;
  private long total;
  // The last non-zero byte and the byte just before it: some JPEG writers pad the file with zeros after EOI.
  private int lastNonZero = -1;
  private int beforeLastNonZero = -1;

  /** Records {@code chunk[position..limit)} without moving the buffer's position. */
  void add(ByteBuffer chunk) {
    int start = chunk.position();
    int n = chunk.remaining();
    if (n == 0) {
      return;
    }
    int previousLast = tailLength == 0 ? -1 : tail[tailLength - 1] & 0xFF;
    for (int i = 0; headLength < HEAD_BYTES && i < n; i++) {
      head[headLength++] = chunk.get(start + i);
    }
    appendToTail(chunk, start, n);
    for (int i = n - 1; i >= 0; i--) {
      int b = chunk.get(start + i) & 0xFF;
      if (b != 0) {
        lastNonZero = b;
        beforeLastNonZero = i > 0 ? chunk.get(start + i - 1) & 0xFF : previousLast;
        break;
      }
    }
    total += n;
  }

  private void appendToTail(ByteBuffer chunk, int start, int n) {
    int take = Math.min(n, TAIL_BYTES);
    int keep = Math.min(tailLength, TAIL_BYTES - take);
    System.arraycopy(tail, tailLength - keep, tail, 0, keep);
    chunk.get(start + n - take, tail, keep, take);
    tailLength = keep + take;
  }

  /** All bytes seen so far. */
  long total() {
    return total;
  }

  /** A copy of the first {@link #headLength()} bytes (at most {@link #HEAD_BYTES}). */
  byte[] head() {
    return Arrays.copyOf(head, headLength);
  }

  int headLength() {
    return headLength;
  }

  /** Whether the stream ends with exactly {@code suffix} (at most {@link #TAIL_BYTES} bytes). */
  boolean endsWith(byte[] suffix) {
    if (suffix.length > tailLength) {
      return false;
    }
    return Arrays.equals(tail, tailLength - suffix.length, tailLength, suffix, 0, suffix.length);
  }

  /** Whether the stream ends with {@code first, second} followed by nothing but zero bytes. */
  boolean endsWithBeforeZeroPadding(int first, int second) {
    return beforeLastNonZero == first && lastNonZero == second;
  }

  /** The unsigned little-endian 32-bit number at {@code offset} in the head, or -1 if the head is shorter. */
  long headUint32LittleEndian(int offset) {
    if (headLength < offset + 4) {
      return -1;
    }
    return (head[offset] & 0xFFL) | (head[offset + 1] & 0xFFL) << 8 | (head[offset + 2] & 0xFFL) << 16
        | (head[offset + 3] & 0xFFL) << 24;
  }
}
