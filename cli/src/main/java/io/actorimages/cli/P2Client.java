package io.actorimages.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A P2 client (PROTOCOLS.md P2) over {@code java.net.http.WebSocket}: JSON commands as text frames, a file as one
 * binary message in both directions, and every JSON object with an {@code "event"} key skipped (events arrive at
 * any time between replies). Unlike the legacy client it accepts messages of any size, so it also downloads files
 * over 1 MiB. Frames are pulled one at a time ({@code request(1)} after each is consumed), so a large download
 * streams to disk instead of piling up in memory. One request at a time; not thread-safe.
 */
final class P2Client implements AutoCloseable {

  /** One reply that is not an event. */
  record Reply(String status, String message, JsonNode json) {}

  /** One file of a {@code LIST} reply. */
  record Listed(String filename, String uploader) {}

  /** What {@code DOWNLOAD}/{@code VIEW} delivered: the name the node gave and the byte count. */
  record Fetched(String filename, long size) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int CHUNK = 256 * 1024;

  /** A binary fragment; {@code last} ends the message. */
  private record Fragment(byte[] bytes, boolean last) {}

  /** The server closed the connection or it failed. */
  private record Ended(String why) {}

  private final Endpoint node;
  private final Duration timeout;
  private final BlockingQueue<Object> incoming = new LinkedBlockingQueue<>();
  private final WebSocket socket;

  private P2Client(Endpoint node, Duration timeout) {
    this.node = node;
    this.timeout = timeout;
    try {
      this.socket = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build().newWebSocketBuilder()
          .connectTimeout(CONNECT_TIMEOUT)
          .buildAsync(URI.create("ws://" + node + "/"), new Listener())
          .get(CONNECT_TIMEOUT.toSeconds() + 1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw CliFailure.connection("timed out: " + node, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliFailure.connection("interrupted while connecting to " + node, e);
    } catch (Exception e) {
      throw node.failure(e);
    }
  }

  /**
   * Connects to {@code ws://node/} and sends {@code AUTH user}.
   *
   * @param timeout longest wait for each reply or the next piece of a file
   * @throws CliFailure {@link Exit#CONNECTION} if the node cannot be reached, {@link Exit#NODE_ERROR} if AUTH fails
   */
  static P2Client connect(Endpoint node, String user, Duration timeout) {
    P2Client client = new P2Client(node, timeout);
    try {
      client.expect("SUCCESS", client.command("AUTH", user), "AUTH " + user);
      return client;
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** {@code LIST}: every file with its uploader, in upload order. */
  List<Listed> list() {
    Reply reply = expect("SUCCESS", command("LIST"), "LIST");
    List<Listed> files = new ArrayList<>();
    for (JsonNode f : reply.json().path("data")) {
      files.add(new Listed(f.path("filename").asText(), f.path("uploader").asText()));
    }
    return files;
  }

  /**
   * {@code UPLOAD [filename, "size"]} (the size as a string of digits, as the legacy client sends it), then the
   * file as one binary message in fragments of 256 KiB.
   *
   * @param sent called with the count of bytes written so far
   * @return the node's {@code SUCCESS} message, e.g. {@code Upload de a.jpg concluído. ID: …}
   * @throws CliFailure {@link Exit#NODE_ERROR} with the node's message if it refuses the upload
   */
  String upload(Path file, String filename, LongConsumer sent) {
    long size = ImageFiles.size(file);
    expect("READY", command("UPLOAD", filename, Long.toString(size)), "UPLOAD " + filename);
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[CHUNK];
      long written = 0;
      while (written < size) {
        int n = in.readNBytes(buffer, 0, (int) Math.min(CHUNK, size - written));
        if (n == 0) throw CliFailure.localFile("file shrank while being sent: " + file, null);
        written += n;
        // The send completes once the fragment is out, so the buffer may be reused after get().
        socket.sendBinary(ByteBuffer.wrap(buffer, 0, n), written == size).get(timeout.toSeconds(), TimeUnit.SECONDS);
        sent.accept(written);
      }
    } catch (IOException e) {
      throw CliFailure.localFile("cannot read: " + file + " (" + e.getMessage() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliFailure.connection("interrupted while sending to " + node, e);
    } catch (Exception e) {
      throw node.failure(e);
    }
    return expect("SUCCESS", nextReply(), "UPLOAD " + filename).message();
  }

  /**
   * {@code DOWNLOAD}/{@code VIEW [filename]}: {@code SIZE_INFO}, the bytes into {@code sink}, then {@code SUCCESS}.
   *
   * @param mode     {@code DOWNLOAD} or {@code VIEW}
   * @param sink     receives the bytes as they arrive
   * @param started  called with the announced size once {@code SIZE_INFO} arrived
   * @param received called with the count of bytes received so far
   * @throws CliFailure {@link Exit#NODE_ERROR} with the node's message (e.g. {@code Arquivo nao encontrado.}),
   *     {@link Exit#INTEGRITY} if the bytes are not the announced size, {@link Exit#LOCAL_FILE} if the sink fails
   */
  Fetched fetch(String mode, String filename, OutputStream sink, LongConsumer started, LongConsumer received) {
    Reply info = expect("SIZE_INFO", command(mode, filename), mode + " " + filename);
    long announced = info.json().path("size").asLong(-1);
    started.accept(announced);
    long size = 0;
    for (boolean last = false; !last; ) {
      Object next = next();
      if (!(next instanceof Fragment fragment)) {
        throw CliFailure.node(node + " " + mode + " " + filename + ": expected the file's bytes, got "
            + describe(next));
      }
      try {
        sink.write(fragment.bytes());
      } catch (IOException e) {
        throw CliFailure.localFile("cannot write " + filename + " (" + e.getMessage() + ")", e);
      }
      size += fragment.bytes().length;
      received.accept(size);
      last = fragment.last();
    }
    if (size != announced) {
      throw CliFailure.integrity(node + " " + mode + " " + filename + ": announced " + announced
          + " bytes, sent " + size);
    }
    expect("SUCCESS", nextReply(), mode + " " + filename);
    return new Fetched(info.json().path("filename").asText(filename), size);
  }

  private Reply command(String cmd, Object... args) {
    try {
      String text = JSON.writeValueAsString(Map.of("cmd", cmd, "args", List.of(args)));
      socket.sendText(text, true).get(timeout.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliFailure.connection("interrupted while sending to " + node, e);
    } catch (Exception e) {
      throw node.failure(e);
    }
    return nextReply();
  }

  private Reply expect(String status, Reply reply, String request) {
    if (status.equals(reply.status())) return reply;
    String message = reply.message() != null ? reply.message() : reply.json().toString();
    throw CliFailure.node(node + " " + request + ": " + message);
  }

  private Reply nextReply() {
    Object next = next();
    if (next instanceof Reply reply) return reply;
    throw CliFailure.node(node + ": expected a JSON reply, got " + describe(next));
  }

  private Object next() {
    Object next;
    try {
      next = incoming.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliFailure.connection("interrupted while waiting for " + node, e);
    }
    if (next == null) {
      throw CliFailure.connection("timed out: " + node + " (no answer within " + timeout.toSeconds() + " s)", null);
    }
    if (next instanceof Ended ended) throw CliFailure.connection("connection lost: " + node + " (" + ended.why()
        + ")", null);
    if (next instanceof IOException bad) throw CliFailure.node(node + ": " + bad.getMessage());
    socket.request(1);
    return next;
  }

  private static String describe(Object o) {
    return o instanceof Fragment f ? "a binary frame of " + f.bytes().length + " bytes"
        : o instanceof Reply r ? r.json().toString() : String.valueOf(o);
  }

  /** Says goodbye ({@code DISCONNECT}, as the legacy client) without waiting long for it. */
  @Override
  public void close() {
    try {
      socket.sendText("{\"cmd\":\"DISCONNECT\",\"args\":[]}", true).get(2, TimeUnit.SECONDS);
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the connection is going away either way
    } finally {
      socket.abort();
    }
  }

  /** Queues what arrives; events are dropped here, text fragments joined. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();

    /** Asks for the first message. */
    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1);
    }

    /** Joins text fragments; queues a whole reply, drops an event and asks for the next message. */
    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (!last) {
        webSocket.request(1);
        return null;
      }
      String whole = text.toString();
      text.setLength(0);
      try {
        JsonNode json = JSON.readTree(whole);
        if (json.has("event")) {
          webSocket.request(1);
        } else {
          incoming.add(new Reply(json.path("status").asText(null), json.path("message").asText(null), json));
        }
      } catch (IOException e) {
        incoming.add(new IOException("reply is not JSON: " + whole));
      }
      return null;
    }

    /** Queues a binary fragment; the reader asks for more once it has written it. */
    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      incoming.add(new Fragment(bytes, last));
      return null;
    }

    /** Queues the end of the connection. */
    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      incoming.add(new Ended("closed by the node, code " + statusCode + (reason.isEmpty() ? "" : ": " + reason)));
      return null;
    }

    /** Queues the failure of the connection. */
    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      incoming.add(new Ended(error.getMessage() != null ? error.getMessage() : error.toString()));
    }
  }
}
