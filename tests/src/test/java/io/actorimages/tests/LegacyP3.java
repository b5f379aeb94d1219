package io.actorimages.tests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The seed-002/003 peers' wire behaviour (PROTOCOLS.md P3, P4): each tracker request is one datagram without a
 * line terminator from a fresh source port, read with a 1,024-byte buffer ({@code LST}: 4,096); {@code GET
 * <md5>} is sent without terminator and the reply read to EOF.
 */
public final class LegacyP3 {
  private LegacyP3() {}

  /** Sends {@code request} to the node's tracker port from {@code localIp} and returns the reply text. */
  public static String request(String host, String localIp, String request) throws IOException {
    return request(host, localIp, request.getBytes(StandardCharsets.UTF_8), request.startsWith("LST") ? 4096 : 1024);
  }

  /** Sends raw bytes and returns the reply read with a buffer of {@code bufferSize} bytes. */
  public static String request(String host, String localIp, byte[] datagram, int bufferSize) throws IOException {
    return request(host, localIp, datagram, bufferSize, 15_000);
  }

  /** As above, giving up after {@code timeoutMillis} ms without a reply ({@link java.net.SocketTimeoutException}). */
  public static String request(String host, String localIp, byte[] datagram, int bufferSize, int timeoutMillis)
      throws IOException {
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(localIp), 0))) {
      socket.setSoTimeout(timeoutMillis);
      socket.send(new DatagramPacket(datagram, datagram.length, new InetSocketAddress(host, 13377)));
      DatagramPacket reply = new DatagramPacket(new byte[bufferSize], bufferSize);
      socket.receive(reply);
      return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
    }
  }

  /** P4: {@code GET <md5>} to {@code host:port}, bytes read until the server closes. */
  public static byte[] get(String host, int port, String md5) throws IOException {
    return getRaw(host, port, ("GET " + md5).getBytes(StandardCharsets.US_ASCII));
  }

  /** P4 with arbitrary request bytes. */
  public static byte[] getRaw(String host, int port, byte[] request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 5000);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = socket.getInputStream();
      return in.readAllBytes();
    }
  }
}
