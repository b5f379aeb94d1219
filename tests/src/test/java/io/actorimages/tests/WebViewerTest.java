package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 5, point 2: the web viewer in real headless Chromium against a real 3-node cluster on
 * 127.0.0.81–83. The browser scripts are {@code web-tests/*.test.mjs} (playwright-core driving Debian's
 * {@code /usr/bin/chromium}), run here by {@code node --test} one file at a time, in name order, so that
 * {@code mvn -B verify} runs them: (a) a P1 image sent to node 1 appears on node 3's Latest page, (b) browser
 * uploads on node 2 show in node 1's Gallery, (c) node 1's Cluster page shows node 3 leave. Screenshots go to
 * {@code tests/target/screenshots/}.
 *
 * <p>Skipped (an assumption, with the reason) only when Chromium or {@code web-tests/node_modules} is missing;
 * {@code .ci/run} installs both.
 */
class WebViewerTest {
  private static final Logger log = LoggerFactory.getLogger(WebViewerTest.class);

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  /** Maven runs a module's tests from the module folder, beside {@code web-tests/}. */
  private static final Path WEB_TESTS = Path.of("..", "web-tests").toAbsolutePath().normalize();
  private static final Path SCREENSHOTS = Path.of("target", "screenshots").toAbsolutePath();
  /** Loopback address of the control endpoint (the nodes take .81–.83). */
  private static final String CONTROL_HOST = "127.0.0.89";
  /** All three scripts together take well under a minute; this only ends a hung browser. */
  private static final long TIMEOUT_MINUTES = 6;

  @Test
  void theWebViewerPassesItsBrowserTestsInHeadlessChromium() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM), "no " + CHROMIUM + " (Debian package chromium; .ci/run installs it)");
    assumeTrue(Files.isDirectory(WEB_TESTS.resolve("node_modules")),
        "no " + WEB_TESTS.resolve("node_modules") + " (run npm ci in web-tests; .ci/run does)");
    List<String> scripts;
    try (Stream<Path> files = Files.list(WEB_TESTS)) {
      scripts = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".test.mjs")).sorted().toList();
    }

    try (TestCluster cluster = TestCluster.start(80, 3, "")) {
      HttpServer control = controlEndpoint(cluster);
      try {
        List<String> command = new ArrayList<>(List.of("node", "--test", "--test-concurrency=1",
            "--test-reporter=spec"));
        command.addAll(scripts);
        ProcessBuilder builder = new ProcessBuilder(command).directory(WEB_TESTS.toFile()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        for (int i = 1; i <= 3; i++) env.put("ACTORIMAGES_NODE_" + i, cluster.host(i));
        env.put("ACTORIMAGES_CONTROL", "http://" + CONTROL_HOST + ":" + control.getAddress().getPort());
        env.put("ACTORIMAGES_TESTDATA", TestImages.dir().toAbsolutePath().normalize().toString());
        env.put("SCREENSHOT_DIR", SCREENSHOTS.toString());
        env.put("NO_COLOR", "1");

        long started = System.nanoTime();
        Process process = builder.start();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = new Thread(() -> logLines(process, tail), "web-tests-output");
        reader.start();
        if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly();
          fail("node --test did not finish in " + TIMEOUT_MINUTES + " min; last output:\n" + lines(tail));
        }
        reader.join(5_000);
        log.info("browser tests took {} s; screenshots in {}", (System.nanoTime() - started) / 1_000_000_000,
            SCREENSHOTS);
        assertEquals(0, process.exitValue(), "node --test " + scripts + " failed; last output:\n" + lines(tail));
      } finally {
        control.stop(0);
      }
    }
  }

  /**
   * {@code POST /stop/<i>} stops node i gracefully and answers 204 once it has terminated: how the Cluster
   * page test stops node 3, since only this JVM can.
   */
  private static HttpServer controlEndpoint(TestCluster cluster) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(CONTROL_HOST, 0), 0);
    server.createContext("/stop/", exchange -> {
      try {
        int node = Integer.parseInt(exchange.getRequestURI().getPath().substring("/stop/".length()));
        if (!"POST".equals(exchange.getRequestMethod()) || node < 1 || node > 3) {
          reply(exchange, 400, "POST /stop/1..3");
          return;
        }
        log.info("browser test asks to stop node {}", node);
        cluster.stop(node);
        exchange.sendResponseHeaders(204, -1);
      } catch (NumberFormatException | AssertionError e) {
        reply(exchange, 500, e.toString());
      } finally {
        exchange.close();
      }
    });
    server.start();
    return server;
  }

  private static void reply(HttpExchange exchange, int status, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  /** Logs every line of the scripts' output and keeps the last 60 for the failure message. */
  private static void logLines(Process process, Deque<String> tail) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        log.info("[web-tests] {}", line);
        synchronized (tail) {
          tail.addLast(line);
          if (tail.size() > 60) tail.removeFirst();
        }
      }
    } catch (IOException e) {
      log.warn("reading node's output failed: {}", e.toString());
    }
  }

  private static String lines(Deque<String> tail) {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }
}
