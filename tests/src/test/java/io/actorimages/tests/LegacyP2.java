package io.actorimages.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The seed-001 client's wire behaviour (PROTOCOLS.md P2): JSON commands as text frames, files as one binary
 * frame, and every JSON object without an {@code "event"} key taken as the reply it waits for; events are
 * collected on the side.
 */
public final class LegacyP2 implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final WebSocket socket;
  private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();

  private LegacyP2(String host) {
    socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://" + host + ":8765/"), new WebSocket.Listener() {
          private final StringBuilder text = new StringBuilder();
          private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
              try {
                JsonNode node = JSON.readTree(text.toString());
                if (node.has("event")) events.add(node);
                else replies.add(node);
              } catch (Exception e) {
                replies.add(new AssertionError("reply is not JSON: " + text));
              }
              text.setLength(0);
            }
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            binary.writeBytes(b);
            if (last) {
              replies.add(binary.toByteArray());
              binary.reset();
            }
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            replies.add("closed");
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            replies.add("closed");
          }
        }).join();
  }

  /** Connects to the node's P2 port. */
  public static LegacyP2 connect(String host) {
    return new LegacyP2(host);
  }

  /** Sends {@code {"cmd": cmd, "args": args}} and returns the next reply (skipping events). */
  public JsonNode command(String cmd, Object... args) throws Exception {
    sendText(JSON.writeValueAsString(java.util.Map.of("cmd", cmd, "args", java.util.List.of(args))));
    return reply();
  }

  /** Sends a raw text frame. */
  public void sendText(String text) {
    socket.sendText(text, true).join();
  }

  /** Sends one binary frame. */
  public void sendBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
  }

  /** The next JSON reply (not an event); fails after 30 s. */
  public JsonNode reply() throws Exception {
    Object o = next();
    if (o instanceof JsonNode n) return n;
    throw new AssertionError("expected a JSON reply, got " + describe(o));
  }

  /** The next binary frame; fails after 30 s. */
  public byte[] binary() throws Exception {
    Object o = next();
    if (o instanceof byte[] b) return b;
    throw new AssertionError("expected a binary frame, got " + describe(o));
  }

  /** True once the server closed the connection (within 10 s). */
  public boolean closedByServer() throws InterruptedException {
    return "closed".equals(replies.poll(10, TimeUnit.SECONDS));
  }

  /** The next event, or null after {@code timeout}. */
  public JsonNode event(Duration timeout) throws InterruptedException {
    return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** UPLOAD as the legacy client does it: size as a string of digits, then the binary frame. */
  public JsonNode upload(String filename, byte[] bytes) throws Exception {
    JsonNode ready = command("UPLOAD", filename, String.valueOf(bytes.length));
    if (!"READY".equals(ready.path("status").asText())) return ready;
    sendBinary(bytes);
    return reply();
  }

  private Object next() throws Exception {
    Object o = replies.poll(30, TimeUnit.SECONDS);
    if (o == null) throw new AssertionError("no reply within 30 s");
    if (o instanceof AssertionError e) throw e;
    return o;
  }

  private static String describe(Object o) {
    return o instanceof byte[] b ? "binary frame of " + b.length + " bytes" : String.valueOf(o);
  }

  @Override
  public void close() {
    socket.abort();
  }
}
