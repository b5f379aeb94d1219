package io.actorimages.tests.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A P2 client for load (PROTOCOLS.md P2), speaking as the seed-001 client does (size as a string of digits, one
 * binary frame per file, every JSON object without {@code "event"} taken as the reply). Unlike the tests'
 * {@code LegacyP2} it drops events (under load every connection gets a {@code NEW_UPLOAD} per upload in the
 * cluster) and never keeps a downloaded file: it hashes the bytes as they arrive, so a 64 MiB download costs
 * the load generator no memory.
 */
public final class BenchP2Client implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A received binary message: its length and MD5. */
  public record Binary(long size, String md5) {}

  private final WebSocket socket;
  private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private final Duration timeout;

  /** Connects to {@code ws://host:8765/}; every later wait fails after {@code timeout}. */
  public BenchP2Client(String host, Duration timeout) {
    this.timeout = timeout;
    this.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://" + host + ":8765/"), new Listener()).join();
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();
    private MessageDigest md5 = newMd5();
    private long binaryBytes;

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        try {
          JsonNode node = JSON.readTree(text.toString());
          if (!node.has("event")) replies.add(node);
        } catch (Exception e) {
          replies.add(new IllegalStateException("reply is not JSON: " + text));
        }
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      binaryBytes += data.remaining();
      md5.update(data);
      if (last) {
        replies.add(new Binary(binaryBytes, HexFormat.of().formatHex(md5.digest())));
        md5 = newMd5();
        binaryBytes = 0;
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      replies.add(new IllegalStateException("closed by the node: " + status + " " + reason));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      replies.add(new IllegalStateException("connection failed: " + error));
    }
  }

  /** Sends {@code {"cmd": cmd, "args": args}} and returns the reply. */
  public JsonNode command(String cmd, Object... args) throws Exception {
    socket.sendText(JSON.writeValueAsString(Map.of("cmd", cmd, "args", List.of(args))), true).join();
    return next(JsonNode.class);
  }

  /** {@code UPLOAD [filename, "size"]}, the bytes as one binary frame; the final reply. */
  public JsonNode upload(String filename, byte[] bytes) throws Exception {
    JsonNode ready = command("UPLOAD", filename, String.valueOf(bytes.length));
    if (!"READY".equals(ready.path("status").asText())) return ready;
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
    return next(JsonNode.class);
  }

  /**
   * {@code DOWNLOAD [filename]}: the bytes received, after checking the {@code SIZE_INFO} before them and the
   * {@code SUCCESS} after them.
   *
   * @throws IllegalStateException any other reply
   */
  public Binary download(String filename) throws Exception {
    JsonNode info = command("DOWNLOAD", filename);
    if (!"SIZE_INFO".equals(info.path("status").asText())) throw new IllegalStateException("DOWNLOAD: " + info);
    Binary bytes = next(Binary.class);
    JsonNode done = next(JsonNode.class);
    if (!"SUCCESS".equals(done.path("status").asText())) throw new IllegalStateException("DOWNLOAD: " + done);
    if (bytes.size() != info.path("size").asLong()) {
      throw new IllegalStateException("DOWNLOAD: " + bytes.size() + " bytes, SIZE_INFO said " + info);
    }
    return bytes;
  }

  private <T> T next(Class<T> type) throws Exception {
    Object o = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (o == null) throw new IllegalStateException("no reply within " + timeout.toSeconds() + " s");
    if (o instanceof IllegalStateException e) throw e;
    if (!type.isInstance(o)) throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + o);
    return type.cast(o);
  }

  private static MessageDigest newMd5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    socket.abort();
  }
}
