package io.actorimages.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * P1 image ingest (PROTOCOLS.md P1), as the seed-000 camera client does it: one TCP connection per image, a
 * 4-byte unsigned big-endian length, the bytes, a half-close; then it waits for the node to close, which an
 * ActorImages node does only once the image is committed. P1 has no reply, so a node that discards the frame
 * (not an image, over its {@code max-image-bytes}) looks the same; {@code send} therefore checks images locally
 * first.
 */
final class P1Client {

  /** The largest frame the 4-byte unsigned length can announce. */
  static final long MAX_FRAME = 0xFFFF_FFFFL;

  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  private static final int CHUNK = 64 * 1024;

  private final Endpoint node;
  private final Duration timeout;

  /**
   * @param node    the node's P1 endpoint
   * @param timeout longest wait for the node to take more bytes or to close after the last one
   */
  P1Client(Endpoint node, Duration timeout) {
    this.node = node;
    this.timeout = timeout;
  }

  /**
   * Sends the file at {@code file} as one frame on its own connection and returns once the node closed it.
   *
   * @param sent called with the count of bytes of the file written so far, after each chunk
   * @throws CliFailure {@link Exit#LOCAL_FILE} if the file cannot be read or exceeds {@link #MAX_FRAME};
   *     {@link Exit#CONNECTION} if the node refuses, times out or drops the connection
   */
  void send(Path file, LongConsumer sent) {
    long size = ImageFiles.size(file);
    if (size > MAX_FRAME) {
      throw CliFailure.localFile("too large for P1 (at most 4 GiB - 1 bytes): " + file, null);
    }
    try (InputStream in = Files.newInputStream(file)) {
      try (Socket socket = new Socket()) {
        socket.connect(node.address(), CONNECT_TIMEOUT_MILLIS);
        socket.setSoTimeout((int) timeout.toMillis());
        OutputStream out = socket.getOutputStream();
        long written = 0;
        try {
          out.write(ByteBuffer.allocate(4).putInt((int) size).array());
          byte[] buffer = new byte[CHUNK];
          for (int n; (n = readChunk(in, buffer, file)) > 0; ) {
            out.write(buffer, 0, n);
            written += n;
            sent.accept(written);
          }
          out.flush();
          socket.shutdownOutput();
        } catch (IOException e) {
          throw CliFailure.connection("connection lost: " + node + " after " + written + " of " + size
              + " bytes of " + file + " (a node closes at once on an image over its max-image-bytes, 64 MiB by"
              + " default)", e);
        }
        awaitClose(socket.getInputStream());
      }
    } catch (IOException e) {
      throw node.failure(e);
    }
  }

  private static int readChunk(InputStream in, byte[] buffer, Path file) {
    try {
      return in.read(buffer);
    } catch (IOException e) {
      throw CliFailure.localFile("cannot read: " + file + " (" + e.getMessage() + ")", e);
    }
  }

  /** Reads until the node closes; P1 never writes, so anything read is ignored. */
  private static void awaitClose(InputStream in) throws IOException {
    byte[] ignored = new byte[512];
    try {
      while (in.read(ignored) >= 0) {
        // P1 has no reply (PROTOCOLS.md P1)
      }
    } catch (java.net.SocketException reset) {
      // a reset after our half-close is the node closing too
    }
  }
}
