package io.actorimages.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The P4 side of {@code register} (PROTOCOLS.md P4), as a legacy peer serves its folder: on each connection read
 * {@code GET } and 32 hex characters (no terminator, possibly in several segments, at most {@link #REQUEST_WAIT_MILLIS}),
 * send the file's bytes and close; for an unknown md5 or junk close without data, as cluster nodes do. One thread
 * accepts; each connection gets a daemon thread (blocking file and socket I/O).
 */
final class PeerServer implements AutoCloseable {

  /** How long a client has to send its whole {@code GET <md5>}, as a node's {@code p4.request-timeout}. */
  static final int REQUEST_WAIT_MILLIS = 2_000;

  private static final int REQUEST_LENGTH = "GET ".length() + 32;

  private final ServerSocket server;
  private final Map<String, Path> files;
  private final Consumer<String> log;
  private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "peer-get");
    t.setDaemon(true);
    return t;
  });

  private PeerServer(ServerSocket server, Map<String, Path> files, Consumer<String> log) {
    this.server = server;
    this.files = Map.copyOf(files);
    this.log = log;
  }

  /**
   * Listens on {@code address} (port 0: a free port) and serves {@code files} until {@link #close}.
   *
   * @param files lowercase md5 to file
   * @param log   receives one line per request served or refused
   * @throws CliFailure {@link Exit#CONNECTION} if the address cannot be bound (in use, not local)
   */
  static PeerServer start(InetSocketAddress address, Map<String, Path> files, Consumer<String> log) {
    ServerSocket server;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(address);
    } catch (IOException e) {
      throw CliFailure.connection("cannot listen on " + address.getHostString() + ":" + address.getPort() + " ("
          + e.getMessage() + ")", e);
    }
    PeerServer peer = new PeerServer(server, files, log);
    Thread acceptor = new Thread(peer::accept, "peer-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return peer;
  }

  /** The port listened on. */
  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        connections.execute(() -> serve(socket));
      } catch (IOException e) {
        if (!server.isClosed()) log.accept("peer port: " + e.getMessage());
      }
    }
  }

  private void serve(Socket socket) {
    String client = socket.getInetAddress().getHostAddress() + ":" + socket.getPort();
    try (socket) {
      String md5 = readRequest(socket);
      Path file = md5 == null ? null : files.get(md5);
      if (file == null) {
        log.accept("GET from " + client + ": " + (md5 == null ? "not a GET <md5> request" : "unknown md5 " + md5));
        return;
      }
      OutputStream out = socket.getOutputStream();
      long size = Files.copy(file, out);
      out.flush();
      log.accept("served " + file.getFileName() + " (" + size + " bytes) to " + client);
    } catch (IOException e) {
      log.accept("GET from " + client + " failed: " + e.getMessage());
    }
  }

  /** The lowercase md5 of a complete {@code GET <md5>}, or {@code null} for anything else. */
  private static String readRequest(Socket socket) throws IOException {
    socket.setSoTimeout(REQUEST_WAIT_MILLIS);
    long deadline = System.currentTimeMillis() + REQUEST_WAIT_MILLIS;
    byte[] request = new byte[REQUEST_LENGTH];
    int have = 0;
    InputStream in = socket.getInputStream();
    try {
      while (have < REQUEST_LENGTH && System.currentTimeMillis() < deadline) {
        int n = in.read(request, have, REQUEST_LENGTH - have);
        if (n < 0) break;
        have += n;
      }
    } catch (SocketTimeoutException e) {
      return null;
    }
    String text = new String(request, 0, have, StandardCharsets.US_ASCII);
    if (have < REQUEST_LENGTH || !text.startsWith("GET ")) return null;
    String md5 = text.substring(4).toLowerCase(java.util.Locale.ROOT);
    return md5.matches("[0-9a-f]{32}") ? md5 : null;
  }

  /** Stops listening and drops connections in progress. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // closing; nothing to do
    }
    connections.shutdownNow();
  }
}
