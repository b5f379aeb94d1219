package io.actorimages.tests.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Scenario 2 (DESIGN.md "Performance", P3 row): an LST-heavy mix of tracker requests from many UDP clients
 * spread over the nodes. One thread drives all clients through a selector, each client a datagram socket with
 * one request outstanding (the legacy clients wait for each reply too), so the offered load is "as fast as the
 * tracker answers {@code clients} requests at a time", and the load generator costs one core at most.
 *
 * <p>Writes need registered identities: {@link #run} registers one legacy-style peer per client before the
 * window (each {@code UPD} then replaces its list, each {@code REG} re-registers it) and sends {@code END} for
 * each after it, so the tracker is left as it was found.
 */
public final class P3Tracker {
  /** What one run measured; latencies in milliseconds. */
  public record Result(double seconds, long requests, long errors, long timeouts, double perSecond,
                       double p50, double p99, double lstP99, double writeP99, double idleLstP50,
                       double idleLstP99, double lstOnlyPerSecond, double lstOnlyP99, long catalog) {}

  private static final long TIMEOUT_NANOS = 1_000_000_000L;
  private static final int FIRST_PORT = 47_000;
  private static final String PASSWORD = "bench;pw";

  private P3Tracker() {}

  private static final class Client {
    final int id;
    final InetSocketAddress node;
    DatagramChannel channel;
    SelectionKey key;
    long sentAt;
    char kind;

    Client(int id, InetSocketAddress node) {
      this.id = id;
      this.node = node;
    }
  }

  /**
   * @param nodes       the requests go to nodes 1..nodes, client {@code c} to node {@code c % nodes + 1}
   * @param clients     datagram clients, each with one request outstanding
   * @param writeShare  share of requests that are REG or UPD (half each); the rest are LST
   * @param maxRequests cap on the requests of the timed window
   */
  public static Result run(int nodes, int clients, int seconds, double writeShare, long maxRequests,
                           String runId) throws IOException {
    long catalog = LocalCluster.catalogSize(1);
    for (int c = 0; c < clients; c++) {
      expect(request(c % nodes + 1, reg(c, runId)), "OK ", "REG of bench peer " + c);
    }
    // Light load first: one request at a time shows the service time without queueing in front of it.
    Latencies idle = new Latencies();
    try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      socket.setSoTimeout(1000);
      socket.connect(new InetSocketAddress(LocalCluster.host(1), 13377));
      byte[] lstBytes = "LST".getBytes(StandardCharsets.US_ASCII);
      java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[4096], 4096);
      long until = System.nanoTime() + 3_000_000_000L;
      while (System.nanoTime() < until) {
        long t0 = System.nanoTime();
        socket.send(new java.net.DatagramPacket(lstBytes, lstBytes.length));
        socket.receive(reply);
        idle.add(System.nanoTime() - t0);
      }
    } catch (java.net.SocketTimeoutException e) {
      // no reply within 1 s: the idle figure stays short; the timed run below counts timeouts
    }

    Phase mixed = load(nodes, clients, seconds, writeShare, maxRequests, runId);
    // A short LST-only phase after it: with one request outstanding per client, slow writes hold their clients
    // back, so the mix alone cannot tell a slow LST path from slow writes.
    Phase lstOnly = load(nodes, clients, Math.min(5, seconds), 0.0, maxRequests, runId);
    for (int c = 0; c < clients; c++) request(c % nodes + 1, "END " + PASSWORD + " " + (FIRST_PORT + c));
    return new Result(mixed.seconds(), mixed.requests(), mixed.errors() + lstOnly.errors(),
        mixed.timeouts() + lstOnly.timeouts(), mixed.requests() / mixed.seconds(), mixed.all().percentileMillis(50),
        mixed.all().percentileMillis(99), mixed.lst().percentileMillis(99), mixed.writes().percentileMillis(99),
        idle.percentileMillis(50), idle.percentileMillis(99), lstOnly.requests() / lstOnly.seconds(),
        lstOnly.all().percentileMillis(99), catalog);
  }

  private record Phase(double seconds, long requests, long errors, long timeouts, Latencies all, Latencies lst,
                       Latencies writes) {}

  /** {@code clients} clients, one request outstanding each, for {@code seconds}; {@code writeShare} of them writes. */
  private static Phase load(int nodes, int clients, int seconds, double writeShare, long maxRequests, String runId)
      throws IOException {
    Latencies all = new Latencies();
    Latencies lst = new Latencies();
    Latencies writes = new Latencies();
    long requests = 0;
    long errors = 0;
    long timeouts = 0;
    SplittableRandom random = new SplittableRandom(42);
    ByteBuffer in = ByteBuffer.allocate(65_536);
    long start = System.nanoTime();
    long deadline = start + seconds * 1_000_000_000L;
    List<Client> clientList = new ArrayList<>();
    try (Selector selector = Selector.open()) {
      for (int c = 0; c < clients; c++) {
        Client client = new Client(c, new InetSocketAddress(LocalCluster.host(c % nodes + 1), 13377));
        open(client, selector);
        send(client, random, writeShare, runId);
        clientList.add(client);
      }
      while (System.nanoTime() < deadline && requests < maxRequests) {
        selector.select(10);
        for (SelectionKey key : selector.selectedKeys()) {
          Client client = (Client) key.attachment();
          in.clear();
          if (client.channel.receive(in) == null) continue;
          long latency = System.nanoTime() - client.sentAt;
          in.flip();
          String reply = StandardCharsets.UTF_8.decode(in).toString();
          requests++;
          all.add(latency);
          (client.kind == 'L' ? lst : writes).add(latency);
          if (reply.startsWith("ERR") || (client.kind != 'L' && !reply.startsWith("OK "))) errors++;
          if (System.nanoTime() < deadline) send(client, random, writeShare, runId);
        }
        selector.selectedKeys().clear();
        long now = System.nanoTime();
        for (Client client : clientList) {
          if (now - client.sentAt > TIMEOUT_NANOS && now < deadline) {
            // A lost datagram: a fresh socket, so a late reply cannot be taken for the next request's.
            timeouts++;
            client.key.cancel();
            client.channel.close();
            open(client, selector);
            send(client, random, writeShare, runId);
          }
        }
      }
      return new Phase((System.nanoTime() - start) / 1e9, requests, errors, timeouts, all, lst, writes);
    } finally {
      for (Client client : clientList) client.channel.close();
    }
  }

  private static void open(Client client, Selector selector) throws IOException {
    client.channel = DatagramChannel.open();
    client.channel.bind(new InetSocketAddress("127.0.0.1", 0));
    client.channel.connect(client.node);
    client.channel.configureBlocking(false);
    client.key = client.channel.register(selector, SelectionKey.OP_READ, client);
  }

  private static void send(Client client, SplittableRandom random, double writeShare, String runId)
      throws IOException {
    double r = random.nextDouble();
    String text;
    if (r >= writeShare) {
      client.kind = 'L';
      text = "LST";
    } else if (r < writeShare / 2) {
      client.kind = 'R';
      text = reg(client.id, runId);
    } else {
      client.kind = 'U';
      text = "UPD" + reg(client.id, runId).substring(3);
    }
    client.sentAt = System.nanoTime();
    client.channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** The REG of bench peer {@code c}: two made-up images, as the seed-003 client quotes them. */
  private static String reg(int c, String runId) {
    String a = String.format("%032x", (long) (runId.hashCode() & 0xffffff) << 16 | c * 2L);
    String b = String.format("%032x", (long) (runId.hashCode() & 0xffffff) << 16 | c * 2L + 1);
    return "REG " + PASSWORD + " " + (FIRST_PORT + c) + " '" + a + ",bench-" + c + "-a.jpg';'" + b + ",bench-" + c
        + "-b.jpg'";
  }

  private static String request(int node, String text) throws IOException {
    return io.actorimages.tests.LegacyP3.request(LocalCluster.host(node), "127.0.0.1",
        text.getBytes(StandardCharsets.UTF_8), 4096, 15_000);
  }

  private static void expect(String reply, String prefix, String what) {
    if (!reply.startsWith(prefix)) throw new IllegalStateException(what + " answered " + reply);
  }
}
