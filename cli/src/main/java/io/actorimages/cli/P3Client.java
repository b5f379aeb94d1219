package io.actorimages.cli;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A P3 tracker client (PROTOCOLS.md P3): each request is one UDP datagram of text without a line terminator, sent
 * from a fresh source port as the legacy peers do, and the reply is one datagram. UDP may lose either, so a request
 * is sent again when no reply came (waits of 2, 4 and 8 s); every request the CLI sends may be repeated safely
 * ({@code REG} replaces, {@code END} of a gone identity is taken as done). The socket is connected to the
 * tracker, so a port where nothing listens shows as "connection refused" (ICMP port unreachable).
 */
final class P3Client {

  /** One image of an {@code LST} reply: its md5, the name registered first, and its holders ({@code ip:port}). */
  record Listed(String md5, String name, List<String> holders) {}

  /** One image to register: md5 (32 hex characters) and the name peers will save it under. */
  record Holding(String md5, String name) {}

  /** The largest UDP payload over IPv4: a {@code REG} longer than this cannot be sent. */
  static final int MAX_DATAGRAM = 65_507;

  private static final String NO_IMAGES = "ERR NO_IMAGES_AVAILABLE";
  private static final int[] WAITS_MILLIS = {2_000, 4_000, 8_000};
  private static final int MAX_PAGES = 100_000;

  private final Endpoint tracker;
  private final InetAddress local;

  /**
   * @param tracker the node's P3 endpoint
   * @param local   the address to send from (the tracker identifies a peer by source IP and port number), or
   *                {@code null} for the one the OS picks
   */
  P3Client(Endpoint tracker, InetAddress local) {
    this.tracker = tracker;
    this.local = local;
  }

  /**
   * {@code LST}, or {@code LST <offset>} (the cluster's extension) for {@code offset > 0}: one page of at most 4,096
   * bytes, newest images first. {@code ERR NO_IMAGES_AVAILABLE} is an empty page.
   *
   * @throws CliFailure {@link Exit#NODE_ERROR} for any other {@code ERR}
   */
  List<Listed> list(int offset) {
    String reply = request(offset == 0 ? "LST" : "LST " + offset);
    if (reply.equals(NO_IMAGES)) return List.of();
    if (reply.startsWith("ERR")) throw CliFailure.node(tracker + " LST: " + reply);
    return parseList(reply);
  }

  /** Every page of {@code LST}, walking {@code LST <offset>} until the tracker has no more. */
  List<Listed> listAll() {
    List<Listed> all = new ArrayList<>();
    for (int page = 0; page < MAX_PAGES; page++) {
      List<Listed> items = list(all.size());
      if (items.isEmpty()) break;
      all.addAll(items);
    }
    return all;
  }

  /**
   * Parses an {@code LST} reply: items split on {@code ;}, each {@code md5,name,holder,…} split on {@code ,} (the
   * tracker lists a {@code ,} or {@code ;} in a name as {@code _}, so the split is exact).
   */
  static List<Listed> parseList(String reply) {
    List<Listed> items = new ArrayList<>();
    for (String item : reply.split(";")) {
      String[] parts = item.split(",", -1);
      if (parts.length < 2 || parts[0].isBlank()) continue;
      items.add(new Listed(parts[0], parts[1], List.of(Arrays.copyOfRange(parts, 2, parts.length))));
    }
    return items;
  }

  /**
   * {@code REG <password> <port> md5,name;…}: registers {@code images} as held by this host at {@code port}.
   *
   * @return the tracker's reply, {@code OK <n>_REGISTERED_IMAGES}
   * @throws CliFailure {@link Exit#NODE_ERROR} for an {@code ERR} reply; {@link Exit#LOCAL_FILE} if the list does
   *     not fit in one datagram
   */
  String register(String password, int port, List<Holding> images) {
    StringBuilder list = new StringBuilder();
    for (Holding h : images) {
      if (list.length() > 0) list.append(';');
      // ';' separates items (PROTOCOLS.md P3); a name may hold ',' (items split on their first one).
      list.append(h.md5()).append(',').append(h.name().replace(';', '_'));
    }
    String request = "REG " + password + " " + port + " " + list;
    int bytes = request.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_DATAGRAM) {
      throw CliFailure.localFile("too many images for one REG datagram (" + bytes + " bytes, at most "
          + MAX_DATAGRAM + "): register a smaller folder", null);
    }
    String reply = request(request);
    if (!reply.startsWith("OK")) throw CliFailure.node(tracker + " REG: " + reply);
    return reply;
  }

  /**
   * {@code END <password> <port>}: removes this host's registration at {@code port}.
   *
   * @return the tracker's reply, {@code OK CLIENT_FINISHED}
   * @throws CliFailure {@link Exit#NODE_ERROR} for an {@code ERR} reply to the first attempt
   */
  String end(String password, int port) {
    String reply = request("END " + password + " " + port);
    if (!reply.startsWith("OK")) throw CliFailure.node(tracker + " END: " + reply);
    return reply;
  }

  private String request(String text) {
    byte[] datagram = text.getBytes(StandardCharsets.UTF_8);
    IOException last = null;
    for (int attempt = 0; attempt < WAITS_MILLIS.length; attempt++) {
      try (DatagramSocket socket = local == null ? new DatagramSocket()
          : new DatagramSocket(new InetSocketAddress(local, 0))) {
        socket.connect(tracker.address());
        socket.setSoTimeout(WAITS_MILLIS[attempt]);
        socket.send(new DatagramPacket(datagram, datagram.length));
        DatagramPacket reply = new DatagramPacket(new byte[MAX_DATAGRAM], MAX_DATAGRAM);
        socket.receive(reply);
        String answer = new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
        if (attempt > 0 && text.startsWith("END ") && answer.startsWith("ERR IP_REGISTERED")) {
          return "OK CLIENT_FINISHED"; // an earlier END arrived; its reply was lost
        }
        return answer;
      } catch (SocketTimeoutException e) {
        last = e;
      } catch (IOException e) {
        throw tracker.failure(e);
      }
    }
    throw CliFailure.connection("timed out: " + tracker + " (no reply to " + text.split(" ", 2)[0] + " in "
        + (Arrays.stream(WAITS_MILLIS).sum() / 1000) + " s)", last);
  }
}
