package io.actorimages.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code register DIR}: joins the IDP2PI network as a legacy peer does (PROTOCOLS.md P3, P4): {@code REG} of the
 * folder's images ({@code md5,name}), then serves them with P4 {@code GET <md5>} on the peer port until Ctrl-C (or
 * until its thread is interrupted, when run in-process), and sends {@code END} on the way out. The tracker knows a
 * peer by the source IP of its datagrams and the port it names, so with {@code --bind} both the datagrams and the
 * peer port use that address.
 */
@Command(name = "register", mixinStandardHelpOptions = true,
    description = {"P3/P4: share a folder's images with the tracker's peers until Ctrl-C.",
        "Registers them (REG md5,name;...), serves them with GET <md5> on the peer port as a legacy peer does, "
            + "and unregisters (END) on Ctrl-C or SIGTERM."})
final class RegisterCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P3Options p3;

  @Parameters(paramLabel = "DIR", description = "Folder whose images (recursively) to share.")
  private Path folder;

  @Option(names = "--port", paramLabel = "P", defaultValue = "0",
      description = "Peer port to serve GET <md5> on (default: a free port).")
  private int port;

  @Option(names = "--password", paramLabel = "PW",
      description = "Password of the registration, needed for END (default: a random one). No spaces.")
  private String password;

  @Option(names = "--bind", paramLabel = "ADDR",
      description = "Local address to serve on and to send from (default: all addresses; the OS picks the source).")
  private String bind;

  /** Registers, serves until interrupted or Ctrl-C, then ends the registration. */
  @Override
  public Integer call() throws Exception {
    Output output = node.output();
    if (!Files.isDirectory(folder)) throw CliFailure.localFile("no such folder: " + folder, null);
    if (password != null && (password.isEmpty() || password.contains(" "))) {
      throw node.usage("--password must be non-empty and without spaces");
    }
    String secret = password != null ? password : HexFormat.of().formatHex(randomBytes());
    InetAddress local = localAddress();
    Map<String, Path> byMd5 = new LinkedHashMap<>();
    List<P3Client.Holding> holdings = new ArrayList<>();
    for (Path image : ImageFiles.imagesIn(folder)) {
      String md5 = ImageFiles.md5(image);
      if (byMd5.putIfAbsent(md5, image) == null) {
        holdings.add(new P3Client.Holding(md5, image.getFileName().toString()));
      }
    }
    Endpoint trackerAt = node.at(p3.port);
    P3Client tracker = new P3Client(trackerAt, local);
    try (PeerServer server = PeerServer.start(new InetSocketAddress(local, port), byMd5,
        line -> output.out().println(line))) {
      String reply = tracker.register(secret, server.port(), holdings);
      output.out().println(reply + ": " + Output.count(holdings.size(), "image") + " of " + folder
          + " registered with " + trackerAt + "; serving on " + (bind != null ? bind : "*") + ":" + server.port()
          + " until Ctrl-C");
      awaitStop(() -> output.out().println(tracker.end(secret, server.port())));
    }
    return Exit.OK;
  }

  /**
   * Blocks until the thread is interrupted or the JVM shuts down (Ctrl-C), then runs {@code end} exactly once
   * before returning (a shutdown hook waits for it, so END goes out before the JVM exits).
   */
  private static void awaitStop(Runnable end) {
    CountDownLatch ended = new CountDownLatch(1);
    AtomicBoolean once = new AtomicBoolean();
    Runnable stop = () -> {
      if (!once.compareAndSet(false, true)) return;
      try {
        end.run();
      } finally {
        ended.countDown();
      }
    };
    Thread hook = new Thread(() -> {
      try {
        stop.run();
      } catch (CliFailure e) {
        System.err.println("actorimages: " + e.getMessage());
      }
    }, "register-end");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ended.await();
    } catch (InterruptedException interrupted) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running already and sends END
      }
      stop.run();
    }
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[8];
    new SecureRandom().nextBytes(bytes);
    return bytes;
  }

  private InetAddress localAddress() {
    if (bind == null) return null;
    try {
      return InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw node.usage("--bind: unknown address " + bind);
    }
  }
}
