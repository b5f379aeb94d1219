package io.actorimages.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * A P4 client (PROTOCOLS.md P4): sends {@code GET <md5>} without a terminator, as the legacy peers do, and reads
 * the reply to EOF while computing its MD5. What counts as a hit is the caller's rule: only bytes whose MD5 is the
 * one asked for (a seed-003 peer answers an unknown md5 with the text {@code ERR File not found}).
 */
final class P4Client {

  /**
   * What a holder sent.
   *
   * @param size bytes received
   * @param md5  lowercase hex MD5 of them
   * @param head their first bytes (up to 64), to tell a text error or the image format
   */
  record Received(long size, String md5, byte[] head) {

    /** The reply as text if it is a short {@code ERR …} line, as a seed-003 peer sends for an unknown md5. */
    String errorText() {
      String text = new String(head, StandardCharsets.US_ASCII).strip();
      return size <= HEAD && text.startsWith("ERR") ? text : null;
    }
  }

  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  private static final int HEAD = 64;

  private final Duration timeout;

  /** @param timeout longest wait for the next bytes */
  P4Client(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * {@code GET md5} to {@code holder}; the bytes go to {@code sink} as they arrive.
   *
   * @param received called with the count of bytes received so far
   * @throws CliFailure {@link Exit#CONNECTION} if the holder cannot be reached or stalls, {@link Exit#LOCAL_FILE}
   *     if {@code sink} fails
   */
  Received get(Endpoint holder, String md5, OutputStream sink, LongConsumer received) {
    MessageDigest digest = ImageFiles.newMd5();
    byte[] head = new byte[HEAD];
    long size = 0;
    try (Socket socket = new Socket()) {
      socket.connect(holder.address(), CONNECT_TIMEOUT_MILLIS);
      socket.setSoTimeout((int) timeout.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + md5).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[64 * 1024];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        if (size < HEAD) System.arraycopy(buffer, 0, head, (int) size, (int) Math.min(n, HEAD - size));
        digest.update(buffer, 0, n);
        write(sink, buffer, n);
        size += n;
        received.accept(size);
      }
    } catch (IOException e) {
      throw holder.failure(e);
    }
    return new Received(size, ImageFiles.hex(digest), Arrays.copyOf(head, (int) Math.min(size, HEAD)));
  }

  private static void write(OutputStream sink, byte[] buffer, int n) {
    try {
      sink.write(buffer, 0, n);
    } catch (IOException e) {
      throw CliFailure.localFile("cannot write the received file (" + e.getMessage() + ")", e);
    }
  }
}
