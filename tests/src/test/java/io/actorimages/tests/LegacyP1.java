package io.actorimages.tests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * The seed-000 camera client's wire behaviour (PROTOCOLS.md P1): 4-byte big-endian length, the bytes,
 * half-close, then wait for the server's close (which ActorImages sends only once the frame is committed).
 */
public final class LegacyP1 {
  private LegacyP1() {}

  /** Sends one frame per image on one connection and returns once the node closed it; returns bytes read. */
  public static int send(String host, byte[]... images) throws IOException {
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    for (byte[] image : images) {
      frames.write(ByteBuffer.allocate(4).putInt(image.length).array());
      frames.write(image);
    }
    return sendRaw(host, frames.toByteArray(), true);
  }

  /**
   * Writes {@code raw} bytes, optionally half-closes, and reads until the node closes.
   *
   * @return the number of bytes the node wrote (always 0 for a correct node: P1 has no reply)
   */
  public static int sendRaw(String host, byte[] raw, boolean halfClose) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, 5001), 5000);
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      out.write(raw);
      out.flush();
      if (halfClose) socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      int total = 0;
      try {
        byte[] buf = new byte[4096];
        for (int n; (n = in.read(buf)) >= 0; ) total += n;
      } catch (java.net.SocketException reset) {
        // a reset is a close too
      }
      return total;
    }
  }
}
